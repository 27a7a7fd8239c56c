import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import type { StoreKind } from '../../src/store/migrations.ts';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/types.ts';

/** The PostgreSQL server (and a database on it to connect to) that test databases are made on. */
export const adminPostgresUrl =
  process.env.KEYGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Every database a store suite runs against; `KEYGATE_TEST_STORES=sqlite` narrows the list. */
export const storeKinds: readonly StoreKind[] = parseStoreKinds(process.env.KEYGATE_TEST_STORES);

function parseStoreKinds(list: string | undefined): StoreKind[] {
  const all: StoreKind[] = ['sqlite', 'postgres'];
  if (list === undefined || list.trim() === '') return all;

  const wanted = list.split(',').map((kind) => kind.trim());
  const unknown = wanted.filter((kind) => !all.includes(kind as StoreKind));
  if (unknown.length > 0) throw new Error(`KEYGATE_TEST_STORES names unknown stores: ${unknown}`);

  return all.filter((kind) => wanted.includes(kind));
}

const testDatabaseName = /^keygate_test_[0-9a-f]{16}$/;

async function onAdminConnection(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminPostgresUrl });
  await client.connect();

  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty, uniquely named PostgreSQL database and returns its URL.
 *
 * The database sorts text by ICU's en-US rules when the server has ICU, as many production
 * databases do, so tests catch queries that wrongly depend on the default collation.
 */
export async function createTestDatabaseUrl(): Promise<string> {
  const name = `keygate_test_${randomBytes(8).toString('hex')}`;

  try {
    await onAdminConnection(
      `create database ${name} template template0 locale_provider icu icu_locale 'en-US'`,
    );
  } catch {
    await onAdminConnection(`create database ${name}`);
  }

  const url = new URL(adminPostgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by createTestDatabaseUrl, cutting off any connection still open. */
export async function dropTestDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!testDatabaseName.test(name))
    throw new Error(`Refusing to drop ${name}: not a test database`);

  await onAdminConnection(`drop database if exists ${name} with (force)`);
}

/** Creates a temporary directory for a test's files; remove it with removeTestDirectory. */
export function createTestDirectory(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'keygate-test-'));
}

/** Removes a directory made by createTestDirectory, with everything in it. */
export async function removeTestDirectory(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
}

/** A store whose close() also runs `cleanup`, even when closing fails. */
function withCleanup(store: Store, cleanup: () => Promise<void>): Store {
  return {
    ...store,
    async close() {
      try {
        await store.close();
      } finally {
        await cleanup();
      }
    },
  };
}

async function openUnmigrated(kind: StoreKind): Promise<Store> {
  if (kind === 'sqlite') {
    const directory = await createTestDirectory();
    const store = await openSqliteStore(join(directory, 'keygate.db'));
    return withCleanup(store, () => removeTestDirectory(directory));
  }

  const url = await createTestDatabaseUrl();
  const store = await openPostgresStore(url);
  return withCleanup(store, () => dropTestDatabase(url));
}

/** Opens a migrated store on a fresh database of `kind`; its close() also deletes the database. */
export async function openTestStore(kind: StoreKind): Promise<Store> {
  const store = await openUnmigrated(kind);

  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }

  return store;
}

/**
 * Declares `suite` once per store kind, as `describe('<title> on <kind>')`, with a fresh
 * migrated store opened before its tests and deleted after them.
 *
 * @example
 * describeEachStore('keys', (store) => {
 *   it('finds a key by its hash', async () => { await store().insertKey(record); ... });
 * });
 */
export function describeEachStore(
  title: string,
  suite: (store: () => Store, kind: StoreKind) => void,
): void {
  for (const kind of storeKinds) {
    describe(`${title} on ${kind}`, () => {
      let opened: Store | undefined;

      before(async () => {
        opened = await openTestStore(kind);
      });

      after(() => opened?.close());

      suite(() => {
        if (opened === undefined) throw new Error('The store opens before the first test');
        return opened;
      }, kind);
    });
  }
}
