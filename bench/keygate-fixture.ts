/** An in-process keygate over SQLite in a temporary directory, with a root key and an API. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createPepper, type Pepper } from '../src/core/hashing.ts';
import { MemoryCounters } from '../src/counters/memory/memory-counters.ts';
import type { Actor } from '../src/services/actor.ts';
import { createKeygate, type Keygate } from '../src/services/keygate.ts';
import type { RecordCacheOptions } from '../src/services/record-cache.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/types.ts';

/** What another process needs to open the same keygate again. */
export interface FixtureSecrets {
  pepperSecret: string;
  rootKey: string;
  apiId: string;
}

/** keygate as a library, with the root key's actor and an API to create keys in. */
export interface BenchKeygate {
  keygate: Keygate;
  store: Store;
  pepper: Pepper;
  actor: Actor;
  apiId: string;
  secrets: FixtureSecrets;
  close(): Promise<void>;
}

/** The SQLite file of the store a fixture keeps in `dataDir`. */
export function benchDatabaseFile(dataDir: string): string {
  return join(dataDir, 'keygate.db');
}

/** Opens a new store in `dataDir`, bootstraps it (generated root key) and creates an API. */
export async function createBenchKeygate(
  dataDir: string,
  cache: Partial<RecordCacheOptions> = {},
): Promise<BenchKeygate> {
  const pepperSecret = randomBytes(32).toString('base64url');
  return withKeygate(dataDir, pepperSecret, cache, async (keygate) => {
    const bootstrapped = await keygate.workspaces.bootstrap(undefined);
    if (bootstrapped.kind !== 'created') throw new Error('the bench store was not empty');
    const actor = await authenticate(keygate, bootstrapped.rootKey);
    const api = await keygate.apis.create(actor, { name: 'bench' });
    return { actor, secrets: { pepperSecret, rootKey: bootstrapped.rootKey, apiId: api.id } };
  });
}

/** Opens the store another process made with `createBenchKeygate`. */
export function reopenBenchKeygate(
  dataDir: string,
  secrets: FixtureSecrets,
  cache: Partial<RecordCacheOptions> = {},
): Promise<BenchKeygate> {
  return withKeygate(dataDir, secrets.pepperSecret, cache, async (keygate) => ({
    actor: await authenticate(keygate, secrets.rootKey),
    secrets,
  }));
}

async function withKeygate(
  dataDir: string,
  pepperSecret: string,
  cache: Partial<RecordCacheOptions>,
  prepare: (keygate: Keygate) => Promise<{ actor: Actor; secrets: FixtureSecrets }>,
): Promise<BenchKeygate> {
  const store = await openSqliteStore(benchDatabaseFile(dataDir));
  await store.migrate();
  const pepper = createPepper(pepperSecret);
  const counters = new MemoryCounters();
  const keygate = createKeygate({ store, counters, pepper, cache });
  const close = async () => {
    await keygate.close();
    await counters.close();
    await store.close();
  };

  try {
    const { actor, secrets } = await prepare(keygate);
    return { keygate, store, pepper, actor, apiId: secrets.apiId, secrets, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function authenticate(keygate: Keygate, rootKey: string): Promise<Actor> {
  const actor = await keygate.rootKeys.authenticate(rootKey, { ip: null, userAgent: null });
  if (!actor) throw new Error('the bench root key does not authenticate');
  return actor;
}
