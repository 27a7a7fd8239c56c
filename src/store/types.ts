/**
 * The durable records of keygate and the one interface every database implements.
 * Times are milliseconds since the epoch; JSON-valued fields are already parsed.
 */
import type { CodeCounts, VerifyCode } from '../core/verify-codes.ts';

/** A tenant: one API owner. */
export interface WorkspaceRecord {
  id: string;
  name: string;
  createdAt: number;
}

/** A key of a workspace's admin keyspace; only its hash is kept. */
export interface RootKeyRecord {
  id: string;
  workspaceId: string;
  name: string;
  hash: string;
  pepperVersion: number;
  start: string;
  permissions: string[];
  createdAt: number;
}

/** One protected API (keyspace) of a workspace. */
export interface ApiRecord {
  id: string;
  workspaceId: string;
  name: string;
  prefix: string;
  createdAt: number;
}

/** A rate limit as configured on a key or an identity. */
export interface RateLimitConfig {
  name: string;
  limit: number;
  duration: number;
  algorithm?: 'sliding-window' | 'token-bucket';
  burst?: number;
  autoApply?: boolean;
  shadow?: boolean;
}

/** How often a balance is reset, and to what (see core/refill.ts). */
export interface RefillConfig {
  interval: 'daily' | 'monthly' | 'never';
  amount: number;
  day?: number;
}

/** A credit balance with its optional refill schedule, as keys and identities show it. */
export interface CreditsConfig {
  remaining: number;
  refill?: RefillConfig;
}

/** A balance as its owner (a key or an identity) reads it, with when it was last refilled. */
export interface OwnedCredits extends CreditsConfig {
  refilledAt: number;
}

/**
 * A credit balance of its own table, so that several owners can draw on one: a key and the keys
 * rolled from it, or an identity's keys.
 */
export interface CreditBalanceRecord {
  id: string;
  workspaceId: string;
  remaining: number;
  refill: RefillConfig | null;
  /** When the balance was last refilled or set by hand; refill times before it have passed. */
  refilledAt: number;
  /** Counts the changes made by hand (set, increment, replace); charges leave it alone. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** What a hand-made change writes to a balance; the store bumps its version. */
export interface CreditBalancePatch {
  remaining: number;
  refill: RefillConfig | null;
  refilledAt: number;
  updatedAt: number;
}

/**
 * Credits a verification spent, to be made durable: `remaining` goes down by `cost`, stopping
 * at 0, after a refill to `refill.amount` when `refill.at` is later than the last refill.
 */
export interface CreditCharge {
  balanceId: string;
  cost: number;
  refill: { at: number; amount: number } | null;
}

/** An API key; only its hash is kept. */
export interface KeyRecord {
  id: string;
  /** The id of the first key of its roll chain; its rate-limit windows are the chain's. */
  lineageId: string;
  workspaceId: string;
  apiId: string;
  hash: string;
  pepperVersion: number;
  start: string;
  name: string | null;
  externalId: string | null;
  meta: Record<string, unknown> | null;
  permissions: string[];
  enabled: boolean;
  expiresAt: number | null;
  /** The balance the key draws on, or `null` when it has none of its own. */
  creditBalanceId: string | null;
  /** That balance as stored, read with the key; `null` when it has none. */
  credits: OwnedCredits | null;
  ratelimits: RateLimitConfig[];
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  rolledFrom: string | null;
}

/** The fields of a key that an update may change. */
export type KeyPatch = Partial<
  Pick<
    KeyRecord,
    | 'name'
    | 'externalId'
    | 'meta'
    | 'permissions'
    | 'enabled'
    | 'expiresAt'
    | 'creditBalanceId'
    | 'ratelimits'
    | 'updatedAt'
    | 'lastUsedAt'
    | 'revokedAt'
  >
>;

/** A customer of a workspace, whose keys (by `externalId`) share its limits and credits. */
export interface IdentityRecord {
  id: string;
  workspaceId: string;
  externalId: string;
  meta: Record<string, unknown> | null;
  ratelimits: RateLimitConfig[];
  creditBalanceId: string | null;
  /** That balance as stored, read with the identity; `null` when it has none. */
  credits: OwnedCredits | null;
  createdAt: number;
  updatedAt: number;
}

/** The fields of an identity that an update may change. */
export type IdentityPatch = Partial<
  Pick<IdentityRecord, 'meta' | 'ratelimits' | 'creditBalanceId' | 'updatedAt'>
>;

/** The limit of one identifier, or of a `*` pattern, in a standalone rate-limit namespace. */
export interface RateLimitOverrideRecord {
  id: string;
  workspaceId: string;
  namespace: string;
  identifier: string;
  limit: number;
  duration: number;
  createdAt: number;
  updatedAt: number;
}

/** Who did what to which record, when and from where. Never holds a secret. */
export interface AuditEventRecord {
  id: string;
  workspaceId: string;
  actorId: string;
  action: string;
  targetType: string;
  targetId: string;
  ip: string | null;
  userAgent: string | null;
  changes: Record<string, unknown> | null;
  createdAt: number;
}

/** The sizes of bucket verifications are counted in; each one counts in a bucket of each. */
export type UsageGranularity = 'minute' | 'hour' | 'day';

/**
 * Which verifications a usage series counts. `''` in a field means "whatever it was": the
 * series of `{ apiId: 'api_1', keyId: '', externalId: '', tag: '' }` counts every verification
 * of a key of api_1, tagged or not.
 */
export interface UsageScope {
  apiId: string;
  keyId: string;
  externalId: string;
  tag: string;
}

/** Verifications to add to one bucket of one series; codes left out add nothing. */
export interface UsageIncrement extends UsageScope {
  workspaceId: string;
  granularity: UsageGranularity;
  /** The bucket's start, in milliseconds since the epoch. */
  bucket: number;
  counts: Partial<CodeCounts>;
}

/** One series of a workspace, over the buckets from `from` (included) to `to` (excluded). */
export interface UsageQuery extends UsageScope {
  workspaceId: string;
  granularity: UsageGranularity;
  from: number;
  to: number;
}

/** The verifications of one bucket by code; buckets without any are absent. */
export interface UsageBucket {
  bucket: number;
  counts: CodeCounts;
}

/** The keys or identities of a workspace with the most verifications of some codes. */
export interface UsageTopQuery {
  workspaceId: string;
  granularity: UsageGranularity;
  from: number;
  to: number;
  by: 'key' | 'identity';
  /** The codes counted. */
  codes: readonly VerifyCode[];
  limit: number;
}

/** A key id or an external id, and how many verifications it had. */
export interface UsageRank {
  id: string;
  count: number;
}

/** When a key was last verified, to be written if it is later than what is stored. */
export interface KeyUse {
  keyId: string;
  at: number;
}

/** One page of a list: `after` is the id of the last record of the previous page. */
export interface PageRequest {
  limit: number;
  after?: string | undefined;
}

/** A page of records and the id to continue after, or `null` at the end. */
export interface Page<T> {
  items: T[];
  nextAfter: string | null;
}

export interface KeyFilter {
  externalId?: string | undefined;
}

export interface AuditFilter {
  action?: string | undefined;
  targetId?: string | undefined;
}

/** Every read and write of durable records; the same inside and outside a transaction. */
export interface StoreQueries {
  insertWorkspace(record: WorkspaceRecord): Promise<void>;
  getWorkspace(id: string): Promise<WorkspaceRecord | undefined>;
  countWorkspaces(): Promise<number>;

  insertRootKey(record: RootKeyRecord): Promise<void>;
  findRootKeyByHash(hash: string): Promise<RootKeyRecord | undefined>;
  getRootKey(workspaceId: string, id: string): Promise<RootKeyRecord | undefined>;
  listRootKeys(workspaceId: string, page: PageRequest): Promise<Page<RootKeyRecord>>;
  /** Returns the deleted record, or `undefined` when there was none. */
  deleteRootKey(workspaceId: string, id: string): Promise<RootKeyRecord | undefined>;

  insertApi(record: ApiRecord): Promise<void>;
  getApi(workspaceId: string, id: string): Promise<ApiRecord | undefined>;
  listApis(workspaceId: string, page: PageRequest): Promise<Page<ApiRecord>>;
  /** Deletes the API and all its keys; returns the deleted keys' hashes, or `undefined`. */
  deleteApi(workspaceId: string, id: string): Promise<string[] | undefined>;

  insertKey(record: KeyRecord): Promise<void>;
  findKeyByHash(hash: string): Promise<KeyRecord | undefined>;
  getKey(workspaceId: string, id: string): Promise<KeyRecord | undefined>;
  listKeys(
    workspaceId: string,
    apiId: string,
    filter: KeyFilter,
    page: PageRequest,
  ): Promise<Page<KeyRecord>>;
  /** Applies the patch and returns the updated record, or `undefined` when there is none. */
  updateKey(workspaceId: string, id: string, patch: KeyPatch): Promise<KeyRecord | undefined>;
  /** Erases the key; returns the erased record, or `undefined` when there was none. */
  deleteKey(workspaceId: string, id: string): Promise<KeyRecord | undefined>;

  insertCreditBalance(record: CreditBalanceRecord): Promise<void>;
  getCreditBalance(workspaceId: string, id: string): Promise<CreditBalanceRecord | undefined>;
  /** Writes a hand-made change and bumps the version; `undefined` when there is no such balance. */
  updateCreditBalance(
    workspaceId: string,
    id: string,
    patch: CreditBalancePatch,
  ): Promise<CreditBalanceRecord | undefined>;
  /** Makes the charges of many verifications durable at once; unknown balances are skipped. */
  applyCreditCharges(charges: readonly CreditCharge[]): Promise<void>;

  insertIdentity(record: IdentityRecord): Promise<void>;
  getIdentity(workspaceId: string, externalId: string): Promise<IdentityRecord | undefined>;
  listIdentities(workspaceId: string, page: PageRequest): Promise<Page<IdentityRecord>>;
  updateIdentity(
    workspaceId: string,
    externalId: string,
    patch: IdentityPatch,
  ): Promise<IdentityRecord | undefined>;
  deleteIdentity(workspaceId: string, externalId: string): Promise<IdentityRecord | undefined>;

  /** Inserts or replaces the override of (namespace, identifier); a replaced one keeps its id. */
  putOverride(record: RateLimitOverrideRecord): Promise<RateLimitOverrideRecord>;
  getOverride(
    workspaceId: string,
    namespace: string,
    identifier: string,
  ): Promise<RateLimitOverrideRecord | undefined>;
  /** The overrides of a namespace whose identifier holds a `*`, in no particular order. */
  listOverridePatterns(workspaceId: string, namespace: string): Promise<RateLimitOverrideRecord[]>;
  deleteOverride(
    workspaceId: string,
    namespace: string,
    identifier: string,
  ): Promise<RateLimitOverrideRecord | undefined>;

  /** Adds verifications to their usage buckets, creating the buckets that do not exist. */
  addUsage(increments: readonly UsageIncrement[]): Promise<void>;
  /** The counts of one series, bucket by bucket, in bucket order. */
  readUsage(query: UsageQuery): Promise<UsageBucket[]>;
  /** The busiest keys or identities, most verifications first. */
  rankUsage(query: UsageTopQuery): Promise<UsageRank[]>;
  /** Deletes the buckets of `granularity` that start before `before`; answers how many. */
  pruneUsage(granularity: UsageGranularity, before: number): Promise<number>;
  /** Moves each key's `lastUsedAt` forward to `at`; never back, and unknown keys are skipped. */
  recordKeyUses(uses: readonly KeyUse[]): Promise<void>;

  insertAuditEvent(record: AuditEventRecord): Promise<void>;
  /** Newest first; `page.after` is the id of the last (oldest) event of the previous page. */
  listAuditEvents(
    workspaceId: string,
    filter: AuditFilter,
    page: PageRequest,
  ): Promise<Page<AuditEventRecord>>;
}

/** A database holding keygate's durable records. */
export interface Store extends StoreQueries {
  /** Which database this is, for logs and readiness. */
  readonly kind: 'sqlite' | 'postgres';
  /** Runs `work` in one transaction: all its writes land, or none. */
  transaction<T>(work: (tx: StoreQueries) => Promise<T>): Promise<T>;
  /** Applies every pending migration. */
  migrate(): Promise<void>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The database could not be reached or failed a query. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/**
 * A write broke a constraint of the database (a duplicate hash, a key of an API deleted
 * meanwhile). The database's own error is dropped: its detail can quote a hash.
 */
export class StoreConflictError extends Error {
  override name = 'StoreConflictError';
}
