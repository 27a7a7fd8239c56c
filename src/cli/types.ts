/**
 * The JSON shapes the keygate HTTP API (v1) answers with, as the command line reads them.
 * They mirror the wire format, so timestamps are ISO 8601 strings and durations milliseconds.
 */

/** One protected API (keyspace). */
export interface ApiView {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
}

/** A rate limit as configured on a key. */
export interface RateLimitView {
  name: string;
  limit: number;
  duration: number;
  algorithm?: string;
  burst?: number;
  autoApply?: boolean;
  shadow?: boolean;
}

/** A credit balance and its refill schedule; `remaining: null` means unlimited. */
export interface CreditsView {
  remaining: number | null;
  refill?: { interval: string; amount: number; day?: number } | null;
}

/** An API key as the server shows it: everything but its secret. */
export interface KeyView {
  id: string;
  apiId: string;
  start: string;
  name: string | null;
  externalId: string | null;
  meta: Record<string, unknown> | null;
  permissions: string[];
  enabled: boolean;
  expiresAt: string | null;
  credits: CreditsView | null;
  ratelimits: RateLimitView[];
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  rolledFrom: string | null;
}

/** A key just created or rolled: the one answer that carries the secret. */
export type CreatedKeyView = KeyView & { key: string };

/** One page of a list. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The state of one rate limit after a verification. */
export interface VerifyRateLimitView {
  name: string;
  limit: number;
  duration: number;
  remaining: number;
  resetAt: string;
  exceeded: boolean;
}

/** The outcome of `POST /v1/keys/verify`. */
export interface VerifyView {
  valid: boolean;
  code: string;
  keyId?: string;
  apiId?: string;
  name?: string | null;
  externalId?: string | null;
  meta?: Record<string, unknown> | null;
  permissions?: string[];
  enabled?: boolean;
  expiresAt?: string | null;
  credits?: { remaining: number | null } | null;
  ratelimits?: VerifyRateLimitView[];
}

/** An RFC 9457 problem body, as every error answer carries it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  requestId?: string;
  errors?: { path: string; message: string }[];
}

/** Credits as create and update send them. */
export interface CreditsInput {
  remaining: number;
  refill?: { interval: string; amount: number; day?: number };
}

/** The body of `POST /v1/apis/{apiId}/keys`. */
export interface CreateKeyInput {
  name?: string;
  externalId?: string;
  meta?: Record<string, unknown>;
  permissions?: string[];
  enabled?: boolean;
  expiresAt?: string;
  prefix?: string;
  ratelimits?: RateLimitView[];
  credits?: CreditsInput;
}

/** The body of `PATCH /v1/keys/{keyId}`: an omitted field is kept, `null` clears it. */
export interface UpdateKeyInput {
  name?: string | null;
  externalId?: string | null;
  meta?: Record<string, unknown> | null;
  permissions?: string[];
  enabled?: boolean;
  expiresAt?: string | null;
  ratelimits?: RateLimitView[];
  credits?: CreditsInput | null;
}

/** A change to a credit balance. */
export interface CreditsChangeInput {
  op: 'set' | 'increment' | 'decrement';
  value: number;
}

/** A customer whose keys share rate limits and credits. */
export interface IdentityView {
  id: string;
  externalId: string;
  meta: Record<string, unknown> | null;
  ratelimits: RateLimitView[];
  credits: CreditsView | null;
  createdAt: string;
  updatedAt: string;
}

/** The body of `POST /v1/identities`, and without `externalId` of its PATCH. */
export interface IdentityInput {
  externalId?: string;
  meta?: Record<string, unknown> | null;
  ratelimits?: RateLimitView[] | null;
  credits?: CreditsInput | null;
}

/** The answer of `POST /v1/ratelimits/{namespace}/limit`. */
export interface LimitAnswerView {
  success: boolean;
  limit: number;
  remaining: number;
  resetAt: string;
  overrideId: string | null;
}

/** An override of one identifier's limit, or of a `*` pattern's. */
export interface OverrideView {
  id: string;
  namespace: string;
  identifier: string;
  limit: number;
  duration: number;
  createdAt: string;
  updatedAt: string;
}

/** The body of `POST /v1/keys/verify`. */
export interface VerifyInput {
  key: string;
  apiId?: string;
  permissions?: string;
  cost?: number;
  ratelimits?: { name: string; cost?: number }[];
}

/** The filters and range of `GET /v1/usage`. */
export interface UsageQuery {
  apiId?: string | undefined;
  keyId?: string | undefined;
  externalId?: string | undefined;
  tag?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  granularity?: string | undefined;
}

/** The answer of `GET /v1/usage`: a point per bucket, counts by verify code. */
export interface UsageView {
  granularity: string;
  from: string;
  to: string;
  series: { time: string; counts: Record<string, number> }[];
  totals: Record<string, number>;
}
