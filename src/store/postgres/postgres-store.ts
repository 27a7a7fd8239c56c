import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createKyselyStore } from '../kysely-store.ts';
import type { Database } from '../schema.ts';
import type { Store } from '../types.ts';

/** How long a query waits for a connection before the store counts as unavailable. */
const connectTimeoutMs = 5_000;

/**
 * Reads int8 (`bigint` columns, `count(*)`) as a JS number for this pool's connections only.
 * Millisecond times and counts stay far below 2^53, so no precision is lost.
 */
const numericInt8: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format),
};

/**
 * Opens a connection pool to the PostgreSQL database at `url`; connects lazily. Runs no
 * migrations: call `migrate()` before use.
 *
 * @example
 * const store = await openPostgresStore('postgres://keygate@db.internal/keygate');
 * await store.migrate();
 */
export async function openPostgresStore(url: string): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    types: numericInt8,
  });

  // An idle connection that dies (a server restart) is dropped by the pool; the next query
  // reconnects or fails with StoreUnavailableError. Without a listener the process would exit.
  pool.on('error', () => {});

  return createKyselyStore(
    new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
    'postgres',
  );
}
