import type { LimitRequest } from '../counters/types.ts';
import type { IdentityRecord, KeyRecord, RateLimitConfig } from '../store/types.ts';
import { KeygateError } from './errors.ts';

const NO_LIMITS: readonly LimitRequest[] = Object.freeze([]);

/** A limit the verify request names, with what to charge it. */
export interface NamedLimit {
  name: string;
  cost?: number | undefined;
}

/** The automatic limits of a key record with the identity record they were resolved with. */
interface ResolvedLimits {
  identity: IdentityRecord | undefined;
  limits: readonly LimitRequest[];
}

/**
 * Resolves the limits of a verification (see `resolveLimits`) and remembers the automatic ones
 * of each key record: records are replaced, never changed, when their settings change, so what
 * was resolved for one stays right while it and its identity record are the ones in use.
 */
export class LimitResolver {
  readonly #automatic = new WeakMap<KeyRecord, ResolvedLimits>();

  resolve(
    key: KeyRecord,
    identity: IdentityRecord | undefined,
    named: readonly NamedLimit[] | undefined,
  ): readonly LimitRequest[] {
    if (named !== undefined && named.length > 0) return resolveLimits(key, identity, named);
    if (key.ratelimits.length === 0 && !identity?.ratelimits.length) return NO_LIMITS;

    const known = this.#automatic.get(key);
    if (known !== undefined && known.identity === identity) return known.limits;
    const limits = resolveLimits(key, identity, undefined);
    this.#automatic.set(key, { identity, limits });
    return limits;
  }
}

/**
 * The limits one verification applies: every auto-applied limit of the key and of its identity,
 * plus those the request names. A key's limit replaces its identity's limit of the same name.
 * A key's windows follow its roll chain (lineage), so a rolled key and its predecessor share
 * them; an identity's windows are shared by all of its keys.
 */
function resolveLimits(
  key: KeyRecord,
  identity: IdentityRecord | undefined,
  named: readonly NamedLimit[] | undefined,
): LimitRequest[] {
  const owned = new Map<string, OwnedLimit>();
  for (const limit of identity?.ratelimits ?? []) {
    owned.set(limit.name, toRequest(`i:${identity?.id}:${limit.name}`, limit));
  }
  for (const limit of key.ratelimits)
    owned.set(limit.name, toRequest(`k:${key.lineageId}:${limit.name}`, limit));

  const costs = new Map((named ?? []).map((limit) => [limit.name, limit.cost ?? 1]));
  const missing = [...costs.keys()].filter((name) => !owned.has(name));
  if (missing.length > 0) throw unknownLimits(missing);

  const applied: LimitRequest[] = [];
  for (const [name, request] of owned) {
    const cost = costs.get(name);
    if (cost !== undefined) applied.push({ ...request, cost });
    else if (request.autoApply) applied.push(request);
  }
  return applied;
}

interface OwnedLimit extends LimitRequest {
  autoApply: boolean;
}

function toRequest(window: string, limit: RateLimitConfig): OwnedLimit {
  const { name, limit: max, duration, algorithm, burst } = limit;
  return {
    key: window,
    name,
    config: {
      limit: max,
      duration,
      ...(algorithm ? { algorithm } : {}),
      ...(burst ? { burst } : {}),
    },
    cost: 1,
    shadow: limit.shadow ?? false,
    autoApply: limit.autoApply ?? true,
  };
}

function unknownLimits(names: string[]): KeygateError {
  const list = names.map((name) => `"${name}"`).join(', ');
  return new KeygateError('BAD_REQUEST', `ratelimits: the key has no rate limit named ${list}`, [
    { path: 'ratelimits', message: `the key has no rate limit named ${list}` },
  ]);
}
