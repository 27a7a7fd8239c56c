import { hashKey, type Pepper } from '../core/hashing.ts';
import { parseKey } from '../core/key-format.ts';
import {
  evaluatePermissionQuery,
  holdsPermission,
  type PermissionQuery,
  parsePermissionQuery,
} from '../core/permissions.ts';
import type { Clock } from '../core/time.ts';
import type { Counters, LimitResult } from '../counters/types.ts';
import type { IdentityRecord, KeyRecord, Store } from '../store/types.ts';
import type { Actor } from './actor.ts';
import type { BalanceRef, CreditLedger } from './credit-ledger.ts';
import { KeygateError } from './errors.ts';
import type { IdentityService } from './identities.ts';
import { type NamedLimit, resolveLimits } from './limits.ts';
import type { RecordCache } from './record-cache.ts';

/** Every answer a verification can give, in the order the checks run. */
export const VERIFY_CODES = [
  'MALFORMED',
  'NOT_FOUND',
  'REVOKED',
  'DISABLED',
  'EXPIRED',
  'INSUFFICIENT_PERMISSIONS',
  'RATE_LIMITED',
  'USAGE_EXCEEDED',
  'VALID',
] as const;

export type VerifyCode = (typeof VERIFY_CODES)[number];

export interface VerifyRequest {
  key: string;
  apiId?: string | undefined;
  /** A permission query such as `a AND (b OR c)`. */
  permissions?: string | undefined;
  /** Credits to charge; 1 when absent, 0 charges nothing. */
  cost?: number | undefined;
  /** Named limits to apply besides the automatic ones; each must exist on the key or identity. */
  ratelimits?: NamedLimit[] | undefined;
}

/** The outcome of a verification; `key` is present whenever the key was found. */
export interface VerifyOutcome {
  valid: boolean;
  code: VerifyCode;
  key?: KeyRecord;
  /** The identity the key draws on, when it has one. */
  identity?: IdentityRecord | undefined;
  /** Credits left after this verification; `null` when unlimited. */
  creditsRemaining?: number | null;
  ratelimits?: LimitResult[];
}

export interface VerifyDependencies {
  store: Store;
  pepper: Pepper;
  clock: Clock;
  cache: RecordCache<KeyRecord>;
  identities: IdentityService;
  counters: Counters;
  ledger: CreditLedger;
}

/** Decides whether a presented API key may be used, without throwing for invalid keys. */
export class VerifyService {
  constructor(private readonly deps: VerifyDependencies) {}

  /** Verifies a key for a caller; a request that cannot be understood throws a 400. */
  async verify(actor: Actor, request: VerifyRequest): Promise<VerifyOutcome> {
    const query = request.permissions === undefined ? undefined : parseQuery(request.permissions);
    if (!parseKey(request.key)) return { valid: false, code: 'MALFORMED' };

    const key = await this.lookup(hashKey(this.deps.pepper, request.key));
    if (!key || !visible(actor, key, request.apiId)) return { valid: false, code: 'NOT_FOUND' };

    const identity =
      key.externalId === null
        ? undefined
        : await this.deps.identities.find(key.workspaceId, key.externalId);
    const limits = resolveLimits(key, identity, request.ratelimits);
    const failed = this.check(key, query);
    if (failed) return { valid: false, code: failed, key, identity };

    return this.charge(key, identity, limits, request.cost ?? 1);
  }

  /** The first check before limits and credits that the key fails, if any. */
  private check(key: KeyRecord, query: PermissionQuery | undefined): VerifyCode | undefined {
    if (key.revokedAt !== null) return 'REVOKED';
    if (!key.enabled) return 'DISABLED';
    if (key.expiresAt !== null && key.expiresAt <= this.deps.clock()) return 'EXPIRED';
    if (query && !evaluatePermissionQuery(query, key.permissions))
      return 'INSUFFICIENT_PERMISSIONS';
    return undefined;
  }

  /**
   * Applies the rate limits, then charges the credits; a refused charge gives back what the
   * limits took, so a denied verification consumes nothing anywhere.
   */
  private async charge(
    key: KeyRecord,
    identity: IdentityRecord | undefined,
    limits: ReturnType<typeof resolveLimits>,
    cost: number,
  ): Promise<VerifyOutcome> {
    const found = { key, identity };
    const consumed =
      limits.length === 0
        ? undefined
        : await this.deps.counters.consume({ limits, now: this.deps.clock() });
    const ratelimits = consumed?.limits ?? [];
    if (consumed && !consumed.allowed)
      return {
        valid: false,
        code: 'RATE_LIMITED',
        ...found,
        ratelimits,
        creditsRemaining: key.credits?.remaining ?? identity?.credits?.remaining ?? null,
      };

    const balance = balanceOf(key, identity);
    if (!balance)
      return { valid: true, code: 'VALID', ...found, ratelimits, creditsRemaining: null };

    const charged = await this.deps.ledger.charge(balance, cost);
    if (charged.charged)
      return {
        valid: true,
        code: 'VALID',
        ...found,
        ratelimits,
        creditsRemaining: charged.remaining,
      };

    if (consumed) await this.deps.counters.refund(consumed.reservation);
    return {
      valid: false,
      code: 'USAGE_EXCEEDED',
      ...found,
      ratelimits,
      creditsRemaining: charged.remaining ?? 0,
    };
  }

  /** The key stored under a hash, from the cache when it can. */
  private lookup(hash: string): Promise<KeyRecord | undefined> | KeyRecord | undefined {
    const cached = this.deps.cache.get(hash);
    if (cached !== undefined) return cached ?? undefined;
    return this.deps.cache.load(hash, () => this.deps.store.findKeyByHash(hash));
  }
}

/** A key's own credits if it has any, else its identity's. */
function balanceOf(key: KeyRecord, identity: IdentityRecord | undefined): BalanceRef | undefined {
  if (key.creditBalanceId) return { id: key.creditBalanceId, refill: key.credits?.refill };
  if (identity?.creditBalanceId)
    return { id: identity.creditBalanceId, refill: identity.credits?.refill };
  return undefined;
}

/** A key of another workspace, of another API, or of an API the caller may not verify. */
function visible(actor: Actor, key: KeyRecord, apiId: string | undefined): boolean {
  if (key.workspaceId !== actor.workspaceId) return false;
  if (apiId !== undefined && key.apiId !== apiId) return false;
  return holdsPermission(actor.permissions, `api.${key.apiId}.verify_key`);
}

function parseQuery(text: string): PermissionQuery {
  const parsed = parsePermissionQuery(text);
  if (parsed.ok) return parsed.query;

  const { message } = parsed.error;
  throw new KeygateError('BAD_REQUEST', `permissions: ${message}`, [
    { path: 'permissions', message },
  ]);
}
