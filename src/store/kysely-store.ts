import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import { CreditChargeStatements } from './credit-charges.ts';
import { migrateToLatest, type StoreKind } from './migrations.ts';
import type {
  ApisTable,
  AuditEventsTable,
  CreditBalancesTable,
  Database,
  IdentitiesTable,
  KeysTable,
  RateLimitOverridesTable,
  RootKeysTable,
  WorkspacesTable,
} from './schema.ts';
import {
  type ApiRecord,
  type AuditEventRecord,
  type AuditFilter,
  type CreditBalancePatch,
  type CreditBalanceRecord,
  type CreditCharge,
  type IdentityPatch,
  type IdentityRecord,
  type KeyFilter,
  type KeyPatch,
  type KeyRecord,
  type OwnedCredits,
  type Page,
  type PageRequest,
  type RateLimitOverrideRecord,
  type RefillConfig,
  type RootKeyRecord,
  type Store,
  StoreConflictError,
  type StoreQueries,
  StoreUnavailableError,
  type WorkspaceRecord,
} from './types.ts';
import { usageQueries } from './usage-queries.ts';

/** The columns of a balance read alongside its owner (a key or an identity). */
interface JoinedBalance {
  balance_remaining: number | string | null;
  balance_refill: string | null;
  balance_refilled_at: number | string | null;
}

function toMillis(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

function toNullableMillis(value: number | string | null): number | null {
  return value === null ? null : toMillis(value);
}

function toJson(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

function fromJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

function workspaceRecord(row: Selectable<WorkspacesTable>): WorkspaceRecord {
  return { id: row.id, name: row.name, createdAt: toMillis(row.created_at) };
}

function rootKeyRecord(row: Selectable<RootKeysTable>): RootKeyRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    hash: row.hash,
    pepperVersion: row.pepper_version,
    start: row.start,
    permissions: JSON.parse(row.permissions) as string[],
    createdAt: toMillis(row.created_at),
  };
}

function apiRecord(row: Selectable<ApisTable>): ApiRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: toMillis(row.created_at),
  };
}

/** A joined balance as its owner shows it, or `null` when the owner has none. */
function joinedCredits(row: JoinedBalance): OwnedCredits | null {
  if (row.balance_remaining === null || row.balance_refilled_at === null) return null;

  const refill = fromJson<RefillConfig>(row.balance_refill);
  const remaining = toMillis(row.balance_remaining);
  const refilledAt = toMillis(row.balance_refilled_at);
  return refill === null ? { remaining, refilledAt } : { remaining, refill, refilledAt };
}

function keyRecord(row: Selectable<KeysTable> & JoinedBalance): KeyRecord {
  return {
    id: row.id,
    lineageId: row.lineage_id ?? row.id,
    workspaceId: row.workspace_id,
    apiId: row.api_id,
    hash: row.hash,
    pepperVersion: row.pepper_version,
    start: row.start,
    name: row.name,
    externalId: row.external_id,
    meta: fromJson(row.meta),
    permissions: JSON.parse(row.permissions) as string[],
    enabled: row.enabled !== 0,
    expiresAt: toNullableMillis(row.expires_at),
    creditBalanceId: row.credit_balance_id,
    credits: joinedCredits(row),
    ratelimits: JSON.parse(row.ratelimits) as KeyRecord['ratelimits'],
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
    lastUsedAt: toNullableMillis(row.last_used_at),
    revokedAt: toNullableMillis(row.revoked_at),
    rolledFrom: row.rolled_from,
  };
}

function creditBalanceRecord(row: Selectable<CreditBalancesTable>): CreditBalanceRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    remaining: toMillis(row.remaining),
    refill: fromJson(row.refill),
    refilledAt: toMillis(row.refilled_at),
    version: row.version,
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
  };
}

function identityRecord(row: Selectable<IdentitiesTable> & JoinedBalance): IdentityRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    externalId: row.external_id,
    meta: fromJson(row.meta),
    ratelimits: JSON.parse(row.ratelimits) as IdentityRecord['ratelimits'],
    creditBalanceId: row.credit_balance_id,
    credits: joinedCredits(row),
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
  };
}

function overrideRecord(row: Selectable<RateLimitOverridesTable>): RateLimitOverrideRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    namespace: row.namespace,
    identifier: row.identifier,
    limit: toMillis(row.limit),
    duration: toMillis(row.duration),
    createdAt: toMillis(row.created_at),
    updatedAt: toMillis(row.updated_at),
  };
}

function auditEventRecord(row: Selectable<AuditEventsTable>): AuditEventRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    userAgent: row.user_agent,
    changes: fromJson(row.changes),
    createdAt: toMillis(row.created_at),
  };
}

function rootKeyRow(record: RootKeyRecord): Insertable<RootKeysTable> {
  return {
    id: record.id,
    workspace_id: record.workspaceId,
    name: record.name,
    hash: record.hash,
    pepper_version: record.pepperVersion,
    start: record.start,
    permissions: JSON.stringify(record.permissions),
    created_at: record.createdAt,
  };
}

function apiRow(record: ApiRecord): Insertable<ApisTable> {
  return {
    id: record.id,
    workspace_id: record.workspaceId,
    name: record.name,
    prefix: record.prefix,
    created_at: record.createdAt,
  };
}

function keyRow(record: KeyRecord): Insertable<KeysTable> {
  return {
    id: record.id,
    lineage_id: record.lineageId,
    workspace_id: record.workspaceId,
    api_id: record.apiId,
    hash: record.hash,
    pepper_version: record.pepperVersion,
    start: record.start,
    name: record.name,
    external_id: record.externalId,
    meta: toJson(record.meta),
    permissions: JSON.stringify(record.permissions),
    enabled: Number(record.enabled),
    expires_at: record.expiresAt,
    credit_balance_id: record.creditBalanceId,
    ratelimits: JSON.stringify(record.ratelimits),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    last_used_at: record.lastUsedAt,
    revoked_at: record.revokedAt,
    rolled_from: record.rolledFrom,
  };
}

/** The columns a patch sets; an absent (or `undefined`) field is left out and so kept. */
function keyPatchRow(patch: KeyPatch): Updateable<KeysTable> {
  const { meta, permissions, enabled, ratelimits } = patch;

  const row: Updateable<KeysTable> = {
    name: patch.name,
    external_id: patch.externalId,
    meta: meta === undefined ? undefined : toJson(meta),
    permissions: permissions === undefined ? undefined : JSON.stringify(permissions),
    enabled: enabled === undefined ? undefined : Number(enabled),
    expires_at: patch.expiresAt,
    credit_balance_id: patch.creditBalanceId,
    ratelimits: ratelimits === undefined ? undefined : JSON.stringify(ratelimits),
    updated_at: patch.updatedAt,
    last_used_at: patch.lastUsedAt,
    revoked_at: patch.revokedAt,
  };

  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== undefined));
}

function auditEventRow(record: AuditEventRecord): Insertable<AuditEventsTable> {
  return {
    id: record.id,
    workspace_id: record.workspaceId,
    actor_id: record.actorId,
    action: record.action,
    target_type: record.targetType,
    target_id: record.targetId,
    ip: record.ip,
    user_agent: record.userAgent,
    changes: toJson(record.changes),
    created_at: record.createdAt,
  };
}

/** Cuts a fetch of `limit + 1` rows down to one page and its cursor. */
function toPage<T extends { id: string }>(items: T[], limit: number): Page<T> {
  const hasMore = items.length > limit;
  const pageItems = items.slice(0, limit);

  return { items: pageItems, nextAfter: hasMore ? (pageItems.at(-1)?.id ?? null) : null };
}

/**
 * Constraint violations (a duplicate hash, a key of a missing API) become a StoreConflictError
 * that names the constraint but not the values. Any other failure of the database, from a
 * refused connection to a timeout, becomes a StoreUnavailableError.
 */
function toStoreError(kind: StoreKind, error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof StoreConflictError) return error;
  if (isConstraintViolation(error)) {
    const constraint = (error as { constraint?: unknown }).constraint;
    const code = (error as { code: string }).code;
    return new StoreConflictError(
      `The ${kind} store refused a write (${typeof constraint === 'string' ? constraint : code})`,
    );
  }

  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`The ${kind} store failed: ${reason}`, { cause: error });
}

/** SQLite names constraint errors SQLITE_CONSTRAINT_*; PostgreSQL uses SQLSTATE class 23. */
function isConstraintViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;

  return typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || /^23/.test(code));
}

/** Makes every method of `queries` reject with store errors (see toStoreError). */
function withStoreErrors<T extends object>(kind: StoreKind, queries: T): T {
  const guarded = Object.entries(queries).map(([name, query]) => {
    const run = query as (...args: unknown[]) => Promise<unknown>;
    const guardedQuery = (...args: unknown[]) =>
      run(...args).catch((error: unknown) => {
        throw toStoreError(kind, error);
      });

    return [name, guardedQuery];
  });

  return Object.fromEntries(guarded) as T;
}

/** Runs `work` in a transaction, or directly when `db` is one already. */
function atomically<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>) {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

function workspaceQueries(db: Kysely<Database>) {
  return {
    async insertWorkspace(record: WorkspaceRecord): Promise<void> {
      const row = { id: record.id, name: record.name, created_at: record.createdAt };
      await db.insertInto('workspaces').values(row).execute();
    },

    async getWorkspace(id: string): Promise<WorkspaceRecord | undefined> {
      const row = await db
        .selectFrom('workspaces')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();

      return row && workspaceRecord(row);
    },

    async countWorkspaces(): Promise<number> {
      const { count } = await db
        .selectFrom('workspaces')
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .executeTakeFirstOrThrow();

      return Number(count);
    },
  };
}

function rootKeyQueries(db: Kysely<Database>) {
  const inWorkspace = (workspaceId: string) =>
    db.selectFrom('root_keys').selectAll().where('workspace_id', '=', workspaceId);

  return {
    async insertRootKey(record: RootKeyRecord): Promise<void> {
      await db.insertInto('root_keys').values(rootKeyRow(record)).execute();
    },

    async findRootKeyByHash(hash: string): Promise<RootKeyRecord | undefined> {
      const row = await db
        .selectFrom('root_keys')
        .selectAll()
        .where('hash', '=', hash)
        .executeTakeFirst();

      return row && rootKeyRecord(row);
    },

    async getRootKey(workspaceId: string, id: string): Promise<RootKeyRecord | undefined> {
      const row = await inWorkspace(workspaceId).where('id', '=', id).executeTakeFirst();

      return row && rootKeyRecord(row);
    },

    async listRootKeys(workspaceId: string, page: PageRequest): Promise<Page<RootKeyRecord>> {
      let query = inWorkspace(workspaceId)
        .orderBy('id')
        .limit(page.limit + 1);
      if (page.after !== undefined) query = query.where('id', '>', page.after);

      const rows = await query.execute();

      return toPage(rows.map(rootKeyRecord), page.limit);
    },

    async deleteRootKey(workspaceId: string, id: string): Promise<RootKeyRecord | undefined> {
      const row = await db
        .deleteFrom('root_keys')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();

      return row && rootKeyRecord(row);
    },
  };
}

async function deleteApiWithKeys(trx: Kysely<Database>, workspaceId: string, id: string) {
  const keys = await trx
    .deleteFrom('keys')
    .where('workspace_id', '=', workspaceId)
    .where('api_id', '=', id)
    .returning('hash')
    .execute();

  const api = await trx
    .deleteFrom('apis')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst();

  return api && keys.map((key) => key.hash);
}

function apiQueries(db: Kysely<Database>) {
  const inWorkspace = (workspaceId: string) =>
    db.selectFrom('apis').selectAll().where('workspace_id', '=', workspaceId);

  return {
    async insertApi(record: ApiRecord): Promise<void> {
      await db.insertInto('apis').values(apiRow(record)).execute();
    },

    async getApi(workspaceId: string, id: string): Promise<ApiRecord | undefined> {
      const row = await inWorkspace(workspaceId).where('id', '=', id).executeTakeFirst();

      return row && apiRecord(row);
    },

    async listApis(workspaceId: string, page: PageRequest): Promise<Page<ApiRecord>> {
      let query = inWorkspace(workspaceId)
        .orderBy('id')
        .limit(page.limit + 1);
      if (page.after !== undefined) query = query.where('id', '>', page.after);

      const rows = await query.execute();

      return toPage(rows.map(apiRecord), page.limit);
    },

    deleteApi(workspaceId: string, id: string): Promise<string[] | undefined> {
      return atomically(db, (trx) => deleteApiWithKeys(trx, workspaceId, id));
    },
  };
}

/** Keys with the balance each draws on, so that reads show its credits. */
function keysWithCredits(db: Kysely<Database>) {
  return db
    .selectFrom('keys')
    .leftJoin('credit_balances', 'credit_balances.id', 'keys.credit_balance_id')
    .selectAll('keys')
    .select([
      'credit_balances.remaining as balance_remaining',
      'credit_balances.refill as balance_refill',
      'credit_balances.refilled_at as balance_refilled_at',
    ]);
}

function keyReadQueries(db: Kysely<Database>) {
  const inWorkspace = (workspaceId: string) =>
    keysWithCredits(db).where('keys.workspace_id', '=', workspaceId);

  return {
    async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
      const row = await keysWithCredits(db).where('keys.hash', '=', hash).executeTakeFirst();

      return row && keyRecord(row);
    },

    async getKey(workspaceId: string, id: string): Promise<KeyRecord | undefined> {
      const row = await inWorkspace(workspaceId).where('keys.id', '=', id).executeTakeFirst();

      return row && keyRecord(row);
    },

    async listKeys(
      workspaceId: string,
      apiId: string,
      filter: KeyFilter,
      page: PageRequest,
    ): Promise<Page<KeyRecord>> {
      let query = inWorkspace(workspaceId)
        .where('keys.api_id', '=', apiId)
        .orderBy('keys.id')
        .limit(page.limit + 1);
      if (filter.externalId !== undefined)
        query = query.where('keys.external_id', '=', filter.externalId);
      if (page.after !== undefined) query = query.where('keys.id', '>', page.after);

      const rows = await query.execute();

      return toPage(rows.map(keyRecord), page.limit);
    },
  };
}

function keyWriteQueries(db: Kysely<Database>, getKey: StoreQueries['getKey']) {
  return {
    async insertKey(record: KeyRecord): Promise<void> {
      await db.insertInto('keys').values(keyRow(record)).execute();
    },

    async updateKey(
      workspaceId: string,
      id: string,
      patch: KeyPatch,
    ): Promise<KeyRecord | undefined> {
      const changes = keyPatchRow(patch);
      if (Object.keys(changes).length === 0) return getKey(workspaceId, id);

      const updated = await db
        .updateTable('keys')
        .set(changes)
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();

      return updated.numUpdatedRows > 0n ? getKey(workspaceId, id) : undefined;
    },

    deleteKey(workspaceId: string, id: string): Promise<KeyRecord | undefined> {
      return atomically(db, async (trx) => {
        const key = await getKeyIn(trx, workspaceId, id);
        if (!key) return undefined;

        await trx.deleteFrom('keys').where('id', '=', id).execute();
        return key;
      });
    },
  };
}

async function getKeyIn(db: Kysely<Database>, workspaceId: string, id: string) {
  const row = await keysWithCredits(db)
    .where('keys.workspace_id', '=', workspaceId)
    .where('keys.id', '=', id)
    .executeTakeFirst();

  return row && keyRecord(row);
}

function creditBalanceRow(record: CreditBalanceRecord): Insertable<CreditBalancesTable> {
  return {
    id: record.id,
    workspace_id: record.workspaceId,
    remaining: record.remaining,
    refill: toJson(record.refill),
    refilled_at: record.refilledAt,
    version: record.version,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function creditBalanceQueries(db: Kysely<Database>) {
  const charges = new CreditChargeStatements(db);
  const getCreditBalance = async (workspaceId: string, id: string) => {
    const row = await db
      .selectFrom('credit_balances')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();

    return row && creditBalanceRecord(row);
  };

  return {
    async insertCreditBalance(record: CreditBalanceRecord): Promise<void> {
      await db.insertInto('credit_balances').values(creditBalanceRow(record)).execute();
    },

    getCreditBalance,

    async updateCreditBalance(
      workspaceId: string,
      id: string,
      patch: CreditBalancePatch,
    ): Promise<CreditBalanceRecord | undefined> {
      const updated = await db
        .updateTable('credit_balances')
        .set({
          remaining: patch.remaining,
          refill: toJson(patch.refill),
          refilled_at: patch.refilledAt,
          updated_at: patch.updatedAt,
          version: sql`version + 1`,
        })
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();

      return updated.numUpdatedRows > 0n ? getCreditBalance(workspaceId, id) : undefined;
    },

    applyCreditCharges(batch: readonly CreditCharge[]): Promise<void> {
      // One statement is atomic on its own; the transaction costs as much as the update.
      const [only] = batch;
      if (batch.length === 1 && only) return charges.apply(db, only);

      return atomically(db, async (trx) => {
        for (const charge of batch) await charges.apply(trx, charge);
      });
    },
  };
}

/** Identities with the balance each holds, so that reads show its credits. */
function identitiesWithCredits(db: Kysely<Database>, workspaceId: string) {
  return db
    .selectFrom('identities')
    .leftJoin('credit_balances', 'credit_balances.id', 'identities.credit_balance_id')
    .selectAll('identities')
    .select([
      'credit_balances.remaining as balance_remaining',
      'credit_balances.refill as balance_refill',
      'credit_balances.refilled_at as balance_refilled_at',
    ])
    .where('identities.workspace_id', '=', workspaceId);
}

function identityRow(record: IdentityRecord): Insertable<IdentitiesTable> {
  return {
    id: record.id,
    workspace_id: record.workspaceId,
    external_id: record.externalId,
    meta: toJson(record.meta),
    ratelimits: JSON.stringify(record.ratelimits),
    credit_balance_id: record.creditBalanceId,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function identityPatchRow(patch: IdentityPatch): Updateable<IdentitiesTable> {
  const row: Updateable<IdentitiesTable> = {
    meta: patch.meta === undefined ? undefined : toJson(patch.meta),
    ratelimits: patch.ratelimits === undefined ? undefined : JSON.stringify(patch.ratelimits),
    credit_balance_id: patch.creditBalanceId,
    updated_at: patch.updatedAt,
  };

  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== undefined));
}

function identityQueries(db: Kysely<Database>) {
  const getIdentity = async (workspaceId: string, externalId: string) => {
    const row = await identitiesWithCredits(db, workspaceId)
      .where('identities.external_id', '=', externalId)
      .executeTakeFirst();

    return row && identityRecord(row);
  };

  return {
    async insertIdentity(record: IdentityRecord): Promise<void> {
      await db.insertInto('identities').values(identityRow(record)).execute();
    },

    getIdentity,

    async listIdentities(workspaceId: string, page: PageRequest): Promise<Page<IdentityRecord>> {
      let query = identitiesWithCredits(db, workspaceId)
        .orderBy('identities.id')
        .limit(page.limit + 1);
      if (page.after !== undefined) query = query.where('identities.id', '>', page.after);

      const rows = await query.execute();

      return toPage(rows.map(identityRecord), page.limit);
    },

    async updateIdentity(
      workspaceId: string,
      externalId: string,
      patch: IdentityPatch,
    ): Promise<IdentityRecord | undefined> {
      const changes = identityPatchRow(patch);
      if (Object.keys(changes).length > 0) {
        await db
          .updateTable('identities')
          .set(changes)
          .where('workspace_id', '=', workspaceId)
          .where('external_id', '=', externalId)
          .execute();
      }

      return getIdentity(workspaceId, externalId);
    },

    deleteIdentity(workspaceId: string, externalId: string): Promise<IdentityRecord | undefined> {
      return atomically(db, async (trx) => {
        const row = await identitiesWithCredits(trx, workspaceId)
          .where('identities.external_id', '=', externalId)
          .executeTakeFirst();
        if (!row) return undefined;

        await trx.deleteFrom('identities').where('id', '=', row.id).execute();
        return identityRecord(row);
      });
    },
  };
}

function overrideRow(record: RateLimitOverrideRecord): Insertable<RateLimitOverridesTable> {
  return {
    id: record.id,
    workspace_id: record.workspaceId,
    namespace: record.namespace,
    identifier: record.identifier,
    is_pattern: Number(record.identifier.includes('*')),
    limit: record.limit,
    duration: record.duration,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function overridesIn(db: Kysely<Database>, workspaceId: string, namespace: string) {
  return db
    .selectFrom('ratelimit_overrides')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('namespace', '=', namespace);
}

function overrideQueries(db: Kysely<Database>) {
  const inNamespace = (workspaceId: string, namespace: string) =>
    overridesIn(db, workspaceId, namespace);
  const getOverride = async (workspaceId: string, namespace: string, identifier: string) => {
    const row = await inNamespace(workspaceId, namespace)
      .where('identifier', '=', identifier)
      .executeTakeFirst();

    return row && overrideRecord(row);
  };

  return {
    async putOverride(record: RateLimitOverrideRecord): Promise<RateLimitOverrideRecord> {
      await db
        .insertInto('ratelimit_overrides')
        .values(overrideRow(record))
        .onConflict((conflict) =>
          conflict.columns(['workspace_id', 'namespace', 'identifier']).doUpdateSet({
            limit: record.limit,
            duration: record.duration,
            updated_at: record.updatedAt,
          }),
        )
        .execute();

      const stored = await getOverride(record.workspaceId, record.namespace, record.identifier);
      if (!stored) throw new StoreConflictError('The override vanished as it was written');
      return stored;
    },

    getOverride,

    async listOverridePatterns(
      workspaceId: string,
      namespace: string,
    ): Promise<RateLimitOverrideRecord[]> {
      const rows = await inNamespace(workspaceId, namespace).where('is_pattern', '=', 1).execute();

      return rows.map(overrideRecord);
    },

    deleteOverride(
      workspaceId: string,
      namespace: string,
      identifier: string,
    ): Promise<RateLimitOverrideRecord | undefined> {
      return atomically(db, async (trx) => {
        const row = await overridesIn(trx, workspaceId, namespace)
          .where('identifier', '=', identifier)
          .executeTakeFirst();
        if (!row) return undefined;

        await trx.deleteFrom('ratelimit_overrides').where('id', '=', row.id).execute();
        return overrideRecord(row);
      });
    },
  };
}

function auditQueries(db: Kysely<Database>) {
  return {
    async insertAuditEvent(record: AuditEventRecord): Promise<void> {
      await db.insertInto('audit_events').values(auditEventRow(record)).execute();
    },

    async listAuditEvents(
      workspaceId: string,
      filter: AuditFilter,
      page: PageRequest,
    ): Promise<Page<AuditEventRecord>> {
      let query = db
        .selectFrom('audit_events')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('id', 'desc')
        .limit(page.limit + 1);
      if (filter.action !== undefined) query = query.where('action', '=', filter.action);
      if (filter.targetId !== undefined) query = query.where('target_id', '=', filter.targetId);
      if (page.after !== undefined) query = query.where('id', '<', page.after);

      const rows = await query.execute();

      return toPage(rows.map(auditEventRecord), page.limit);
    },
  };
}

function createQueries(db: Kysely<Database>, kind: StoreKind): StoreQueries {
  const keyReads = keyReadQueries(db);

  const queries: StoreQueries = {
    ...workspaceQueries(db),
    ...rootKeyQueries(db),
    ...apiQueries(db),
    ...keyReads,
    ...keyWriteQueries(db, keyReads.getKey),
    ...creditBalanceQueries(db),
    ...identityQueries(db),
    ...overrideQueries(db),
    ...auditQueries(db),
    ...usageQueries(db),
  };

  return withStoreErrors(kind, queries);
}

/** Errors thrown by the caller's work pass through; failures to begin or commit are wrapped. */
async function runTransaction<T>(
  db: Kysely<Database>,
  kind: StoreKind,
  work: (tx: StoreQueries) => Promise<T>,
): Promise<T> {
  const failure: { error?: unknown } = {};

  try {
    return await db.transaction().execute(async (trx) => {
      try {
        return await work(createQueries(trx, kind));
      } catch (error) {
        failure.error = error;
        throw error;
      }
    });
  } catch (error) {
    throw 'error' in failure && failure.error === error ? error : toStoreError(kind, error);
  }
}

async function ping(db: Kysely<Database>, kind: StoreKind): Promise<void> {
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    throw new StoreUnavailableError(`The ${kind} store does not answer`, { cause: error });
  }
}

/**
 * A Store over any Kysely database with keygate's schema: SQLite and PostgreSQL run the same
 * queries. `close()` destroys `db`.
 *
 * Inside `transaction(work)`, `work` must use the queries it is given, not the store: on SQLite
 * the transaction holds the one connection, so a query through the store would wait forever.
 */
export function createKyselyStore(db: Kysely<Database>, kind: StoreKind): Store {
  let closing: Promise<void> | undefined;

  return {
    ...createQueries(db, kind),
    kind,

    transaction<T>(work: (tx: StoreQueries) => Promise<T>): Promise<T> {
      return runTransaction(db, kind, work);
    },

    async migrate(): Promise<void> {
      await migrateToLatest(db, kind).catch((error: unknown) => {
        throw toStoreError(kind, error);
      });
    },

    ping: () => ping(db, kind),

    close(): Promise<void> {
      closing ??= db.destroy();
      return closing;
    },
  };
}
