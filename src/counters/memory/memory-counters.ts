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
  LimitRequest,
  LimitResult,
  Reservation,
} from '../types.ts';

interface Window {
  readonly key: string;
  state: LimitState;
  /** From when `state` says no more than an unused window does, so that it can be dropped. */
  idleAt: number;
}

const NOTHING_CHARGED: Reservation = { charges: [] };

/**
 * Counters in this process's memory, for a single node. No call awaits anything before it is
 * done, so each consume and refund is atomic. Idle windows are dropped a few at a time on each
 * consume, so memory follows the windows in use, not every key ever seen.
 */
export class MemoryCounters implements Counters {
  readonly #windows = new Map<string, Window>();
  #sweep: MapIterator<Window> = this.#windows.values();

  /** How many windows are held, idle ones not yet dropped included. */
  get size(): number {
    return this.#windows.size;
  }

  async consume(request: ConsumeRequest): Promise<ConsumeResult> {
    const { limits, now } = request;
    // Looking at one window more than this call can add keeps idle ones from piling up.
    this.#dropSomeIdle(now, limits.length + 1);

    const decided = this.#decide(limits, now);
    if (!enforcedAllow(limits, decided)) {
      const standing = this.#uncharged(limits, decided, now);
      return { allowed: false, limits: standing, reservation: NOTHING_CHARGED };
    }
    return { allowed: true, limits: decided, reservation: this.#charge(limits, decided, now) };
  }

  async refund(reservation: Reservation): Promise<void> {
    for (const charge of reservation.charges) {
      const window = this.#windows.get(charge.key);
      if (window === undefined) continue;

      refundLimitInPlace(window.state, charge.config, charge.at, charge.cost);
      window.idleAt = limitIdleAt(window.state, charge.config);
    }
  }

  /** Drops every window idle at `now` and answers how many; consumes do it a few at a time. */
  dropIdle(now: number): number {
    let dropped = 0;
    for (const window of this.#windows.values()) {
      if (window.idleAt > now) continue;
      this.#windows.delete(window.key);
      dropped += 1;
    }
    return dropped;
  }

  async close(): Promise<void> {
    this.#windows.clear();
  }

  #decide(limits: readonly LimitRequest[], now: number): LimitResult[] {
    const decided: LimitResult[] = [];
    for (const limit of limits) {
      const state = this.#windows.get(limit.key)?.state;
      decided.push(result(limit, decideLimit(state, limit.config, now, limit.cost)));
    }
    return decided;
  }

  /** Charges every limit that allows, and answers the charges for a refund. */
  #charge(limits: readonly LimitRequest[], decided: LimitResult[], now: number): Reservation {
    const charges: Charge[] = [];
    for (let index = 0; index < limits.length; index += 1) {
      const limit = limits[index];
      if (limit === undefined || limit.cost === 0 || decided[index]?.exceeded !== false) continue;
      charges.push(this.#chargeOne(limit, now));
    }
    return charges.length === 0 ? NOTHING_CHARGED : { charges };
  }

  #chargeOne({ key, config, cost }: LimitRequest, now: number): Charge {
    const window = this.#windows.get(key);
    const at = limitChargeTime(window?.state, config, now);
    const state = chargeLimitInPlace(window?.state, config, now, cost);
    const idleAt = limitIdleAt(state, config);
    if (window === undefined) {
      this.#windows.set(key, { key, state, idleAt });
    } else {
      window.state = state;
      window.idleAt = idleAt;
    }
    return { key, config, cost, at };
  }

  /** The limits as they stand when nothing was charged: allowing ones are asked again at 0. */
  #uncharged(limits: readonly LimitRequest[], decided: LimitResult[], now: number): LimitResult[] {
    return decided.map((standing, index) => {
      const limit = limits[index];
      if (limit === undefined || standing.exceeded || limit.cost === 0) return standing;
      const state = this.#windows.get(limit.key)?.state;
      return result(limit, decideLimit(state, limit.config, now, 0));
    });
  }

  /** Looks at up to `count` windows, going round the map, and drops the idle ones. */
  #dropSomeIdle(now: number, count: number): void {
    for (let looked = 0; looked < count; looked += 1) {
      const next = this.#sweep.next();
      if (next.done === true) {
        this.#sweep = this.#windows.values();
        return;
      }
      if (next.value.idleAt <= now) this.#windows.delete(next.value.key);
    }
  }
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
