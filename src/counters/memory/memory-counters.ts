import { type LiveCredits, reconcileCredits } from '../../core/credits.ts';
import {
  chargeLimitInPlace,
  decideLimit,
  type LimitState,
  limitChargeTime,
  limitIdleAt,
  refundLimitInPlace,
} from '../../core/limits/limit.ts';
import type { LimitDecision } from '../../core/limits/types.ts';
import type {
  Charge,
  ConsumeRequest,
  ConsumeResult,
  Counters,
  CreditRequest,
  CreditsCharge,
  LimitRequest,
  LimitResult,
  Reservation,
} from '../types.ts';
import { IdleMap } from './idle-map.ts';

interface LimitWindow {
  readonly key: string;
  state: LimitState;
  /** From when `state` says no more than an unused window does, so that it can be dropped. */
  idleAt: number;
}

interface HeldCredits {
  readonly key: string;
  credits: LiveCredits;
  idleAt: number;
}

export interface MemoryCountersOptions {
  /**
   * How long a balance no consume touched is held. It must be longer than the store's answers
   * can be stale in the requests (the record cache's TTL), so that a balance taken up again
   * starts from a stored one that counts every charge made durable before it was dropped.
   */
  creditsIdleMs: number;
}

const NOTHING_CHARGED: Reservation = [];

/**
 * Counters in this process's memory, for a single node. No call awaits anything before it is
 * done, so each consume and refund is atomic. Idle windows and balances are dropped a few at a
 * time on each consume, so memory follows what is in use, not every key ever seen.
 */
export class MemoryCounters implements Counters {
  readonly #windows = new IdleMap<LimitWindow>();
  readonly #balances = new IdleMap<HeldCredits>();
  readonly #creditsIdleMs: number;
  /** The windows the running consume found, by limit; reused across calls so as not to allocate. */
  readonly #found: (LimitWindow | undefined)[] = [];

  constructor(options: Partial<MemoryCountersOptions> = {}) {
    this.#creditsIdleMs = options.creditsIdleMs ?? 15 * 60_000;
  }

  /** How many windows are held, idle ones not yet dropped included. */
  get size(): number {
    return this.#windows.size;
  }

  consume(request: ConsumeRequest): ConsumeResult {
    const { limits, credits, now } = request;
    // Looking at one entry more than this call can add keeps idle ones from piling up.
    this.#windows.dropSomeIdle(now, limits.length + 1);
    if (credits) this.#balances.dropSomeIdle(now, 2);

    const decided = this.#decide(limits, now);
    const held = credits && this.#holdCredits(credits, now);
    const covered = !held || !credits || held.credits.remaining >= credits.cost;
    const allowed = covered && enforcedAllow(limits, decided);
    const standing = allowed ? decided : this.#uncharged(limits, decided, now);
    const reservation = allowed ? this.#charge(limits, decided, now) : NOTHING_CHARGED;
    const creditsCharge = allowed && held && credits ? chargeCredits(held, credits.cost) : null;
    return {
      allowed,
      limits: standing,
      credits: held ? { remaining: held.credits.remaining, exceeded: !covered } : null,
      reservation: creditsCharge ? [...reservation, creditsCharge] : reservation,
    };
  }

  async refund(reservation: Reservation): Promise<void> {
    for (const charge of reservation) {
      if (charge.kind === 'credits') {
        const held = this.#balances.get(charge.key);
        if (held?.credits.version === charge.version) held.credits.remaining += charge.cost;
        continue;
      }
      const window = this.#windows.get(charge.key);
      if (window === undefined) continue;

      refundLimitInPlace(window.state, charge.config, charge.at, charge.cost);
      window.idleAt = limitIdleAt(window.state, charge.config);
    }
  }

  /** Drops every window idle at `now` and answers how many; consumes do it a few at a time. */
  dropIdle(now: number): number {
    this.#balances.dropIdle(now);
    return this.#windows.dropIdle(now);
  }

  async close(): Promise<void> {
    this.#windows.clear();
    this.#balances.clear();
  }

  /** The balance held for a request, reconciled with the stored one the request carries. */
  #holdCredits(request: CreditRequest, now: number): HeldCredits {
    const held = this.#balances.get(request.key);
    const credits = reconcileCredits(held?.credits, request.stored, now);
    const idleAt = now + this.#creditsIdleMs;
    if (held) {
      held.credits = credits;
      held.idleAt = idleAt;
      return held;
    }
    const added = { key: request.key, credits, idleAt };
    this.#balances.add(added);
    return added;
  }

  #decide(limits: readonly LimitRequest[], now: number): LimitResult[] {
    const decided: LimitResult[] = [];
    for (const limit of limits) {
      const window = this.#windows.get(limit.key);
      this.#found[decided.length] = window;
      decided.push(result(limit, decideLimit(window?.state, limit.config, now, limit.cost)));
    }
    return decided;
  }

  /** Charges every limit that allows, and answers the charges for a refund. */
  #charge(limits: readonly LimitRequest[], decided: LimitResult[], now: number): Reservation {
    const charges: Charge[] = [];
    for (let index = 0; index < limits.length; index += 1) {
      const limit = limits[index];
      if (limit === undefined || limit.cost === 0 || decided[index]?.exceeded !== false) continue;
      // Looked up again when absent, in case an earlier limit of this consume just made it.
      const window = this.#found[index] ?? this.#windows.get(limit.key);
      charges.push(this.#chargeOne(limit, window, now));
    }
    return charges.length === 0 ? NOTHING_CHARGED : charges;
  }

  #chargeOne(
    { key, config, cost }: LimitRequest,
    window: LimitWindow | undefined,
    now: number,
  ): Charge {
    const at = limitChargeTime(window?.state, config, now);
    const state = chargeLimitInPlace(window?.state, config, now, cost);
    const idleAt = limitIdleAt(state, config);
    if (window === undefined) {
      this.#windows.add({ key, state, idleAt });
    } else {
      window.state = state;
      window.idleAt = idleAt;
    }
    return { kind: 'limit', key, config, cost, at };
  }

  /** The limits as they stand when nothing was charged: allowing ones are asked again at 0. */
  #uncharged(limits: readonly LimitRequest[], decided: LimitResult[], now: number): LimitResult[] {
    return decided.map((standing, index) => {
      const limit = limits[index];
      if (limit === undefined || standing.exceeded || limit.cost === 0) return standing;
      const state = this.#found[index]?.state;
      return result(limit, decideLimit(state, limit.config, now, 0));
    });
  }
}

/** Takes the cost from a held balance; nothing to give back when the cost is 0. */
function chargeCredits(held: HeldCredits, cost: number): CreditsCharge | null {
  if (cost === 0) return null;

  held.credits.remaining -= cost;
  return { kind: 'credits', key: held.key, cost, version: held.credits.version };
}

/** True when no enforced limit denies. */
function enforcedAllow(limits: readonly LimitRequest[], decided: LimitResult[]): boolean {
  for (let index = 0; index < limits.length; index += 1) {
    if (decided[index]?.exceeded === true && limits[index]?.shadow === false) return false;
  }
  return true;
}

function result(limit: LimitRequest, decision: LimitDecision): LimitResult {
  const { name, config } = limit;
  const { remaining, resetAt } = decision;
  return {
    name,
    limit: config.limit,
    duration: config.duration,
    remaining,
    resetAt,
    exceeded: !decision.allowed,
  };
}
