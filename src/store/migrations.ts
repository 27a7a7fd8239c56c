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

/** Every migration of keygate's schema, in order, kept in code so no file lookup is needed. */
export function createMigrationProvider(kind: StoreKind): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001_initial_schema': initialSchema(kind),
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
