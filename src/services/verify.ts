import { hashKey, type Pepper } from '../core/hashing.ts';
import { isWellFormedKey } from '../core/key-format.ts';
import {
  evaluatePermissionQuery,
  holdsPermission,
  type PermissionQuery,
  parsePermissionQuery,
} from '../core/permissions.ts';
import type { Soon } from '../core/soon.ts';
import type { Clock } from '../core/time.ts';
import type { VerifyCode } from '../core/verify-codes.ts';
import type {
  ConsumeResult,
  Counters,
  LimitRequest,
  LimitResult,
  Reservation,
} from '../counters/types.ts';
import type { CreditBalanceRecord, IdentityRecord, KeyRecord, Store } from '../store/types.ts';
import type { Actor } from './actor.ts';
import type { CreditLedger } from './credit-ledger.ts';
import { balanceCacheKey, creditCharge, creditsAt } from './credits.ts';
import { KeygateError } from './errors.ts';
import type { IdentityService } from './identities.ts';
import { LimitResolver, type NamedLimit } from './limits.ts';
import type { RecordCache } from './record-cache.ts';
import type { UsageRecorder } from './usage-recorder.ts';

export { VERIFY_CODES, type VerifyCode } from '../core/verify-codes.ts';

export interface VerifyRequest {
  key: string;
  apiId?: string | undefined;
  /** A permission query such as `a AND (b OR c)`. */
  permissions?: string | undefined;
  /** Credits to charge; 1 when absent, 0 charges nothing. */
  cost?: number | undefined;
  /** Named limits to apply besides the automatic ones; each must exist on the key or identity. */
  ratelimits?: NamedLimit[] | undefined;
  /** Labels to count the verification under in usage, besides its key, API and customer. */
  tags?: string[] | undefined;
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
  ratelimits?: readonly LimitResult[];
}

export interface VerifyDependencies {
  store: Store;
  pepper: Pepper;
  clock: Clock;
  cache: RecordCache<KeyRecord>;
  balances: RecordCache<CreditBalanceRecord>;
  identities: IdentityService;
  counters: Counters;
  ledger: CreditLedger;
  usage: UsageRecorder;
}

/** What a found key's verification goes on with once its own checks pass. */
interface Found {
  key: KeyRecord;
  identity: IdentityRecord | undefined;
}

/** A consume under way: what it charges, and when. */
interface Consumption {
  found: Found;
  limits: readonly LimitRequest[];
  balance: CreditBalanceRecord | undefined;
  cost: number;
  now: number;
}

const MALFORMED: VerifyOutcome = Object.freeze({ valid: false, code: 'MALFORMED' });
const NOT_FOUND: VerifyOutcome = Object.freeze({ valid: false, code: 'NOT_FOUND' });
const NO_LIMITS: readonly LimitResult[] = Object.freeze([]);
/** The most APIs whose verify permission is remembered per set of root-key permissions. */
const REMEMBERED_APIS = 1_000;

/**
 * Decides whether a presented API key may be used, without throwing for invalid keys. A key
 * whose records are cached and that has no limits or credits is answered without awaiting
 * anything; the rest waits for the store or the counters.
 */
export class VerifyService {
  /** Whether a set of root-key permissions may verify the keys of an API, by API id. */
  readonly #verifiable = new WeakMap<readonly string[], Map<string, boolean>>();
  readonly #limits = new LimitResolver();

  constructor(private readonly deps: VerifyDependencies) {}

  /** How many key records (and remembered misses) the cache holds. */
  get cachedKeys(): number {
    return this.deps.cache.size;
  }

  /**
   * Verifies a key for a caller, and counts the verification whatever its outcome; a request
   * that cannot be understood throws a 400 and counts as none.
   */
  verify(actor: Actor, request: VerifyRequest): Soon<VerifyOutcome> {
    const outcome = this.outcomeOf(actor, request);
    if (outcome instanceof Promise)
      return outcome.then((done) => this.counted(actor, request, done));
    return this.counted(actor, request, outcome);
  }

  private counted(actor: Actor, request: VerifyRequest, outcome: VerifyOutcome): VerifyOutcome {
    const { key } = outcome;
    const now = this.deps.clock();
    if (key !== undefined && (request.tags === undefined || request.tags.length === 0)) {
      this.deps.usage.recordKey(actor.workspaceId, key, outcome.code, now);
      return outcome;
    }
    this.deps.usage.record({
      workspaceId: actor.workspaceId,
      apiId: key?.apiId ?? request.apiId,
      keyId: key?.id,
      externalId: key?.externalId,
      code: outcome.code,
      tags: request.tags,
      at: now,
    });
    return outcome;
  }

  private outcomeOf(actor: Actor, request: VerifyRequest): Soon<VerifyOutcome> {
    const query = request.permissions === undefined ? undefined : parseQuery(request.permissions);
    const hash = hashKey(this.deps.pepper, request.key);
    const cached = this.deps.cache.get(hash);
    // Only a well-formed key was ever looked up and cached, so a hit is one: the format is
    // checked on a miss, before the store is asked.
    if (cached !== undefined) return this.verifyKey(actor, request, query, cached ?? undefined);
    if (!isWellFormedKey(request.key)) return MALFORMED;

    return this.deps.cache
      .load(hash, () => this.deps.store.findKeyByHash(hash))
      .then((key) => this.verifyKey(actor, request, query, key));
  }

  private verifyKey(
    actor: Actor,
    request: VerifyRequest,
    query: PermissionQuery | undefined,
    key: KeyRecord | undefined,
  ): Soon<VerifyOutcome> {
    if (!key || !this.visible(actor, key, request.apiId)) return NOT_FOUND;
    if (key.externalId === null) return this.decide(request, query, key, undefined);

    const { identities } = this.deps;
    const identity = identities.cached(key.workspaceId, key.externalId);
    if (identity !== undefined) return this.decide(request, query, key, identity ?? undefined);
    return identities
      .find(key.workspaceId, key.externalId)
      .then((found) => this.decide(request, query, key, found));
  }

  /** The checks in their order; limits and credits only when every earlier check passes. */
  private decide(
    request: VerifyRequest,
    query: PermissionQuery | undefined,
    key: KeyRecord,
    identity: IdentityRecord | undefined,
  ): Soon<VerifyOutcome> {
    const limits = this.#limits.resolve(key, identity, request.ratelimits);
    const failed = this.check(key, query);
    if (failed) {
      const creditsRemaining = shownCredits(key, identity, this.deps.clock());
      return { valid: false, code: failed, key, identity, creditsRemaining };
    }

    const balanceId = key.creditBalanceId ?? identity?.creditBalanceId ?? null;
    if (limits.length === 0 && balanceId === null) {
      return {
        valid: true,
        code: 'VALID',
        key,
        identity,
        ratelimits: NO_LIMITS,
        creditsRemaining: null,
      };
    }
    return this.consume({ key, identity }, limits, balanceId, request.cost ?? 1);
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
   * Applies the rate limits and the credit charge in one atomic step of the counters, then
   * makes the charge durable before answering; if it cannot be, the step is given back. Waits
   * only for what is not at hand: a balance not cached, remote counters, the charge's write.
   */
  private consume(
    found: Found,
    limits: readonly LimitRequest[],
    balanceId: string | null,
    cost: number,
  ): Soon<VerifyOutcome> {
    const balance = balanceId === null ? undefined : this.balance(found.key, balanceId);
    if (balance instanceof Promise) {
      return balance.then((loaded) => this.consumeWith(found, limits, loaded, cost));
    }
    return this.consumeWith(found, limits, balance, cost);
  }

  private consumeWith(
    found: Found,
    limits: readonly LimitRequest[],
    balance: CreditBalanceRecord | undefined,
    cost: number,
  ): Soon<VerifyOutcome> {
    const now = this.deps.clock();
    const credits = balance && { key: balance.id, cost, stored: balance };
    const consuming = this.deps.counters.consume({ limits, credits, now });
    const consumption = { found, limits, balance, cost, now };
    if (consuming instanceof Promise) {
      return consuming.then((done) => this.settle(consumption, done));
    }
    return this.settle(consumption, consuming);
  }

  /** The outcome of a consume; a VALID one waits until its charge is durable. */
  private settle(consumption: Consumption, consumed: ConsumeResult): Soon<VerifyOutcome> {
    const { found, limits, balance, cost, now } = consumption;
    const ratelimits = consumed.limits;
    const creditsRemaining = consumed.credits?.remaining ?? null;
    const { key, identity } = found;
    if (!consumed.allowed) {
      const limited = ratelimits.some((limit, i) => limit.exceeded && !limits[i]?.shadow);
      const code = limited ? 'RATE_LIMITED' : 'USAGE_EXCEEDED';
      return { valid: false, code, key, identity, ratelimits, creditsRemaining };
    }

    const outcome: VerifyOutcome = {
      valid: true,
      code: 'VALID',
      key,
      identity,
      ratelimits,
      creditsRemaining,
    };
    if (!balance || cost === 0) return outcome;
    return this.deps.ledger.record(creditCharge(balance, cost, now)).then(
      () => outcome,
      (error: unknown) => this.refunded(consumed.reservation, error),
    );
  }

  /** Gives back what a consume took when its charge could not be made durable, and fails. */
  private async refunded(reservation: Reservation, error: unknown): Promise<never> {
    await this.deps.counters.refund(reservation);
    throw error;
  }

  /** A balance from the cache when it can; a missing one leaves the key unlimited. */
  private balance(key: KeyRecord, id: string): Soon<CreditBalanceRecord | undefined> {
    const cacheKey = balanceCacheKey(id);
    const cached = this.deps.balances.get(cacheKey);
    if (cached !== undefined) return cached ?? undefined;
    return this.deps.balances.load(cacheKey, () =>
      this.deps.store.getCreditBalance(key.workspaceId, id),
    );
  }

  /** A key of another workspace, of another API, or of an API the caller may not verify. */
  private visible(actor: Actor, key: KeyRecord, apiId: string | undefined): boolean {
    if (key.workspaceId !== actor.workspaceId) return false;
    if (apiId !== undefined && key.apiId !== apiId) return false;
    return this.mayVerify(actor.permissions, key.apiId);
  }

  /** `api.<apiId>.verify_key` against a root key's permissions, remembered per API. */
  private mayVerify(permissions: readonly string[], apiId: string): boolean {
    let byApi = this.#verifiable.get(permissions);
    if (!byApi) {
      byApi = new Map();
      this.#verifiable.set(permissions, byApi);
    }
    let allowed = byApi.get(apiId);
    if (allowed === undefined) {
      allowed = holdsPermission(permissions, `api.${apiId}.verify_key`);
      if (byApi.size < REMEMBERED_APIS) byApi.set(apiId, allowed);
    }
    return allowed;
  }
}

/** The credits a key draws on as stored, refilled to `now`; `null` when unlimited. */
function shownCredits(
  key: KeyRecord,
  identity: IdentityRecord | undefined,
  now: number,
): number | null {
  const credits = key.credits ?? identity?.credits ?? null;
  return credits && creditsAt(credits, now).remaining;
}

function parseQuery(text: string): PermissionQuery {
  const parsed = parsePermissionQuery(text);
  if (parsed.ok) return parsed.query;

  const { message } = parsed.error;
  throw new KeygateError('BAD_REQUEST', `permissions: ${message}`, [
    { path: 'permissions', message },
  ]);
}
