import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';
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

/** How many prepared statements are kept for reuse; keygate's queries are far fewer kinds. */
const STATEMENTS_KEPT = 500;

/**
 * The database as Kysely's dialect sees it, with prepared statements kept by their SQL.
 * Preparing costs as much as running a small query, and the same few queries run all the
 * time (a verification's credit charge, usage writes); better-sqlite3 statements can be run
 * again and again, one at a time, which is how the dialect's single connection runs them.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(sql: string): SqliteStatement {
      const kept = statements.get(sql);
      if (kept !== undefined) return kept;

      const statement = database.prepare(sql);
      if (statements.size >= STATEMENTS_KEPT) statements.clear();
      statements.set(sql, statement);
      return statement;
    },
    close: () => database.close(),
  };
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
      new Kysely<Database>({
        dialect: new SqliteDialect({ database: withStatementCache(database) }),
      }),
      'sqlite',
    );
  } catch (error) {
    throw new StoreUnavailableError(`Cannot open the SQLite database ${file}`, { cause: error });
  }
}
