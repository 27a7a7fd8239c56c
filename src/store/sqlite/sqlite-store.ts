import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createKyselyStore } from '../kysely-store.ts';
import type { Database } from '../schema.ts';
import { type Store, StoreUnavailableError } from '../types.ts';

/** How long a write waits for another process's lock before failing with SQLITE_BUSY. */
const busyTimeoutMs = 5_000;

function isInMemory(file: string): boolean {
  return file === ':memory:' || file === '';
}

function openDatabase(file: string): BetterSqlite3.Database {
  const database = new BetterSqlite3(file);

  database.pragma('journal_mode = WAL');
  database.pragma(`busy_timeout = ${busyTimeoutMs}`);
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');

  return database;
}

/**
 * Opens (creating if needed) the SQLite database in `file`, or a private one for `:memory:`.
 * Runs no migrations: call `migrate()` before use.
 *
 * @example
 * const store = await openSqliteStore('.keygate/keygate.db');
 * await store.migrate();
 */
export async function openSqliteStore(file: string): Promise<Store> {
  try {
    if (!isInMemory(file)) await mkdir(dirname(file), { recursive: true });

    const database = openDatabase(file);

    return createKyselyStore(
      new Kysely<Database>({ dialect: new SqliteDialect({ database }) }),
      'sqlite',
    );
  } catch (error) {
    throw new StoreUnavailableError(`Cannot open the SQLite database ${file}`, { cause: error });
  }
}
