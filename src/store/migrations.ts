import {
  type ColumnDataType,
  type Expression,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from 'kysely';
import type { Store } from './types.ts';

/** The databases keygate's schema is written for. */
export type StoreKind = Store['kind'];

type Schema = Kysely<unknown>['schema'];
type TextType = ColumnDataType | Expression<unknown>;

/**
 * The column type of ids, hashes and other machine-made strings. Ids sort by creation time
 * only under byte order, so PostgreSQL gets the "C" collation whatever the database's default
 * is; SQLite compares text bytewise already.
 */
function machineText(kind: StoreKind): TextType {
  return kind === 'postgres' ? sql`text collate "C"` : 'text';
}

async function createWorkspaces(schema: Schema, id: TextType): Promise<void> {
  await schema
    .createTable('workspaces')
    .addColumn('id', id, (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();
}

async function createRootKeys(schema: Schema, id: TextType): Promise<void> {
  await schema
    .createTable('root_keys')
    .addColumn('id', id, (col) => col.primaryKey())
    .addColumn('workspace_id', id, (col) => col.notNull().references('workspaces.id'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('hash', id, (col) => col.notNull())
    .addColumn('pepper_version', 'integer', (col) => col.notNull())
    .addColumn('start', 'text', (col) => col.notNull())
    .addColumn('permissions', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();

  await schema.createIndex('root_keys_hash').unique().on('root_keys').column('hash').execute();

  await schema
    .createIndex('root_keys_workspace_id')
    .on('root_keys')
    .columns(['workspace_id', 'id'])
    .execute();
}

/** The unique (workspace_id, id) index lets keys point at an API of their own workspace only. */
async function createApis(schema: Schema, id: TextType): Promise<void> {
  await schema
    .createTable('apis')
    .addColumn('id', id, (col) => col.primaryKey())
    .addColumn('workspace_id', id, (col) => col.notNull().references('workspaces.id'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('prefix', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();

  await schema
    .createIndex('apis_workspace_id')
    .unique()
    .on('apis')
    .columns(['workspace_id', 'id'])
    .execute();
}

async function createKeys(schema: Schema, id: TextType): Promise<void> {
  await schema
    .createTable('keys')
    .addColumn('id', id, (col) => col.primaryKey())
    .addColumn('workspace_id', id, (col) => col.notNull())
    .addColumn('api_id', id, (col) => col.notNull())
    .addColumn('hash', id, (col) => col.notNull())
    .addColumn('pepper_version', 'integer', (col) => col.notNull())
    .addColumn('start', 'text', (col) => col.notNull())
    .addColumn('name', 'text')
    .addColumn('external_id', id)
    .addColumn('meta', 'text')
    .addColumn('permissions', 'text', (col) => col.notNull())
    .addColumn('enabled', 'integer', (col) => col.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('credits', 'text')
    .addColumn('ratelimits', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('rolled_from', id)
    .addForeignKeyConstraint('keys_api', ['workspace_id', 'api_id'], 'apis', ['workspace_id', 'id'])
    .execute();

  await createKeyIndexes(schema);
}

async function createKeyIndexes(schema: Schema): Promise<void> {
  await schema.createIndex('keys_hash').unique().on('keys').column('hash').execute();

  await schema
    .createIndex('keys_workspace_api')
    .on('keys')
    .columns(['workspace_id', 'api_id', 'id'])
    .execute();

  await schema
    .createIndex('keys_workspace_external_id')
    .on('keys')
    .columns(['workspace_id', 'external_id', 'id'])
    .execute();
}

/** Actors and targets carry no foreign key: an event outlives the records it names. */
async function createAuditEvents(schema: Schema, id: TextType): Promise<void> {
  await schema
    .createTable('audit_events')
    .addColumn('id', id, (col) => col.primaryKey())
    .addColumn('workspace_id', id, (col) => col.notNull().references('workspaces.id'))
    .addColumn('actor_id', id, (col) => col.notNull())
    .addColumn('action', id, (col) => col.notNull())
    .addColumn('target_type', 'text', (col) => col.notNull())
    .addColumn('target_id', id, (col) => col.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('changes', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();

  await createAuditIndexes(schema);
}

async function createAuditIndexes(schema: Schema): Promise<void> {
  const indexes = {
    audit_events_workspace: ['workspace_id', 'id'],
    audit_events_workspace_action: ['workspace_id', 'action', 'id'],
    audit_events_workspace_target: ['workspace_id', 'target_id', 'id'],
  };

  for (const [name, columns] of Object.entries(indexes)) {
    await schema.createIndex(name).on('audit_events').columns(columns).execute();
  }
}

function initialSchema(kind: StoreKind): Migration {
  const id = machineText(kind);

  return {
    async up(db: Kysely<unknown>) {
      await createWorkspaces(db.schema, id);
      await createRootKeys(db.schema, id);
      await createApis(db.schema, id);
      await createKeys(db.schema, id);
      await createAuditEvents(db.schema, id);
    },
  };
}

async function createCreditBalances(schema: Schema, id: TextType): Promise<void> {
  await schema
    .createTable('credit_balances')
    .addColumn('id', id, (col) => col.primaryKey())
    .addColumn('workspace_id', id, (col) => col.notNull().references('workspaces.id'))
    .addColumn('remaining', 'bigint', (col) => col.notNull())
    .addColumn('refill', 'text')
    .addColumn('refilled_at', 'bigint', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
}

async function createIdentities(schema: Schema, id: TextType): Promise<void> {
  await schema
    .createTable('identities')
    .addColumn('id', id, (col) => col.primaryKey())
    .addColumn('workspace_id', id, (col) => col.notNull().references('workspaces.id'))
    .addColumn('external_id', id, (col) => col.notNull())
    .addColumn('meta', 'text')
    .addColumn('ratelimits', 'text', (col) => col.notNull())
    .addColumn('credit_balance_id', id, (col) => col.references('credit_balances.id'))
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();

  await schema
    .createIndex('identities_workspace_external_id')
    .unique()
    .on('identities')
    .columns(['workspace_id', 'external_id'])
    .execute();
}

async function createRateLimitOverrides(schema: Schema, id: TextType): Promise<void> {
  await schema
    .createTable('ratelimit_overrides')
    .addColumn('id', id, (col) => col.primaryKey())
    .addColumn('workspace_id', id, (col) => col.notNull().references('workspaces.id'))
    .addColumn('namespace', id, (col) => col.notNull())
    .addColumn('identifier', id, (col) => col.notNull())
    .addColumn('is_pattern', 'integer', (col) => col.notNull())
    .addColumn('limit', 'bigint', (col) => col.notNull())
    .addColumn('duration', 'bigint', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();

  await schema
    .createIndex('ratelimit_overrides_identifier')
    .unique()
    .on('ratelimit_overrides')
    .columns(['workspace_id', 'namespace', 'identifier'])
    .execute();

  await schema
    .createIndex('ratelimit_overrides_patterns')
    .on('ratelimit_overrides')
    .columns(['workspace_id', 'namespace', 'is_pattern'])
    .execute();
}

interface LegacyKeyCredits {
  id: string;
  workspace_id: string;
  credits: string;
  created_at: number | string;
}

/**
 * Moves each key's credits from its own JSON column into a balance row that rolled keys can
 * share, and gives every key a lineage (its own id until it is rolled).
 */
async function moveKeyCreditsToBalances(db: Kysely<unknown>, id: TextType): Promise<void> {
  await db.schema
    .alterTable('keys')
    .addColumn('credit_balance_id', id, (col) => col.references('credit_balances.id'))
    .execute();
  await db.schema.alterTable('keys').addColumn('lineage_id', id).execute();
  await sql`update keys set lineage_id = id`.execute(db);

  const { rows } = await sql<LegacyKeyCredits>`
    select id, workspace_id, credits, created_at from keys where credits is not null`.execute(db);
  for (const row of rows) {
    const credits = JSON.parse(row.credits) as { remaining: number; refill?: unknown };
    const balanceId = `bal_${row.id.slice('key_'.length)}`;
    const createdAt = Number(row.created_at);
    await sql`
      insert into credit_balances
        (id, workspace_id, remaining, refill, refilled_at, version, created_at, updated_at)
      values (${balanceId}, ${row.workspace_id}, ${credits.remaining},
        ${credits.refill === undefined ? null : JSON.stringify(credits.refill)},
        ${createdAt}, 1, ${createdAt}, ${createdAt})`.execute(db);
    await sql`update keys set credit_balance_id = ${balanceId} where id = ${row.id}`.execute(db);
  }

  await db.schema.alterTable('keys').dropColumn('credits').execute();
}

function creditsAndIdentities(kind: StoreKind): Migration {
  const id = machineText(kind);

  return {
    async up(db: Kysely<unknown>) {
      await createCreditBalances(db.schema, id);
      await createIdentities(db.schema, id);
      await createRateLimitOverrides(db.schema, id);
      await moveKeyCreditsToBalances(db, id);
    },
  };
}

/**
 * Usage counts: one row per bucket and series, a column per verify code. The primary key leads
 * with the series, so that reading one series over a range touches only its own rows, however
 * many other series there are; pruning goes by granularity and bucket. On SQLite the table is
 * stored in primary-key order (`without rowid`), so a series is read in one sweep of one tree.
 */
function usageCounts(kind: StoreKind): Migration {
  const text = machineText(kind);
  // Spelled out rather than taken from the code's list: a migration stays as it first ran.
  const codes = [
    'valid',
    'malformed',
    'not_found',
    'revoked',
    'disabled',
    'expired',
    'insufficient_permissions',
    'rate_limited',
    'usage_exceeded',
  ];

  return {
    async up(db: Kysely<unknown>) {
      let table = db.schema
        .createTable('usage_counts')
        .addColumn('workspace_id', text, (col) => col.notNull())
        .addColumn('granularity', text, (col) => col.notNull())
        .addColumn('api_id', text, (col) => col.notNull())
        .addColumn('key_id', text, (col) => col.notNull())
        .addColumn('external_id', text, (col) => col.notNull())
        .addColumn('tag', text, (col) => col.notNull())
        .addColumn('bucket', 'bigint', (col) => col.notNull());
      for (const code of codes) {
        table = table.addColumn(code, 'bigint', (col) => col.notNull().defaultTo(0));
      }
      table = table.addPrimaryKeyConstraint('usage_counts_pk', [
        'workspace_id',
        'granularity',
        'api_id',
        'key_id',
        'external_id',
        'tag',
        'bucket',
      ]);
      if (kind === 'sqlite') table = table.modifyEnd(sql`without rowid`);
      await table.execute();

      await db.schema
        .createIndex('usage_counts_prune')
        .on('usage_counts')
        .columns(['granularity', 'bucket'])
        .execute();
    },
  };
}

/** Every migration of keygate's schema, in order, kept in code so no file lookup is needed. */
export function createMigrationProvider(kind: StoreKind): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001_initial_schema': initialSchema(kind),
    '0002_credits_identities_overrides': creditsAndIdentities(kind),
    '0003_usage_counts': usageCounts(kind),
  };

  return { getMigrations: async () => migrations };
}

/** Applies every pending migration; rejects with the failing migration's error. */
export async function migrateToLatest<DB>(db: Kysely<DB>, kind: StoreKind): Promise<void> {
  const migrator = new Migrator({ db, provider: createMigrationProvider(kind) });

  const { error } = await migrator.migrateToLatest();

  if (error !== undefined) {
    throw error;
  }
}
