/** keygate's tables as the query builder sees them, column by column (see migrations.ts). */
import type { ColumnType } from 'kysely';

/** Milliseconds since the epoch in a `bigint` column; read back as a string if no parser is set. */
export type Millis = ColumnType<number | string, number, number>;
export type NullableMillis = ColumnType<number | string | null, number | null, number | null>;

export interface WorkspacesTable {
  id: string;
  name: string;
  created_at: Millis;
}

export interface RootKeysTable {
  id: string;
  workspace_id: string;
  name: string;
  hash: string;
  pepper_version: number;
  start: string;
  permissions: string;
  created_at: Millis;
}

export interface ApisTable {
  id: string;
  workspace_id: string;
  name: string;
  prefix: string;
  created_at: Millis;
}

export interface KeysTable {
  id: string;
  /** `null` only for keys made before lineages existed and not yet migrated. */
  lineage_id: string | null;
  workspace_id: string;
  api_id: string;
  hash: string;
  pepper_version: number;
  start: string;
  name: string | null;
  external_id: string | null;
  meta: string | null;
  permissions: string;
  enabled: number;
  expires_at: NullableMillis;
  credit_balance_id: string | null;
  ratelimits: string;
  created_at: Millis;
  updated_at: Millis;
  last_used_at: NullableMillis;
  revoked_at: NullableMillis;
  rolled_from: string | null;
}

export interface AuditEventsTable {
  id: string;
  workspace_id: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  ip: string | null;
  user_agent: string | null;
  changes: string | null;
  created_at: Millis;
}

export interface CreditBalancesTable {
  id: string;
  workspace_id: string;
  remaining: Millis;
  refill: string | null;
  refilled_at: Millis;
  version: number;
  created_at: Millis;
  updated_at: Millis;
}

export interface IdentitiesTable {
  id: string;
  workspace_id: string;
  external_id: string;
  meta: string | null;
  ratelimits: string;
  credit_balance_id: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface RateLimitOverridesTable {
  id: string;
  workspace_id: string;
  namespace: string;
  identifier: string;
  is_pattern: number;
  limit: Millis;
  duration: Millis;
  created_at: Millis;
  updated_at: Millis;
}

/** The tables of keygate's schema as the query builder sees them (see migrations.ts). */
type Count = ColumnType<number | string, number, number>;

/** Verifications counted in one bucket of one series, a column per verify code. */
export interface UsageCountsTable {
  workspace_id: string;
  granularity: string;
  api_id: string;
  key_id: string;
  external_id: string;
  tag: string;
  bucket: Millis;
  valid: Count;
  malformed: Count;
  not_found: Count;
  revoked: Count;
  disabled: Count;
  expired: Count;
  insufficient_permissions: Count;
  rate_limited: Count;
  usage_exceeded: Count;
}

export interface Database {
  workspaces: WorkspacesTable;
  root_keys: RootKeysTable;
  apis: ApisTable;
  keys: KeysTable;
  credit_balances: CreditBalancesTable;
  identities: IdentitiesTable;
  ratelimit_overrides: RateLimitOverridesTable;
  audit_events: AuditEventsTable;
  usage_counts: UsageCountsTable;
}
