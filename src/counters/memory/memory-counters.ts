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

interface LimitWindow {
  readonly key: string;
  state: LimitState;
  /** From when `state` says no more than an unused window does, so that it can be dropped. */
  idleAt: number;
}

const NOTHING_CHARGED: Reservation = [];

/**
 * Counters in this process's memory, for a single node. No call awaits anything before it is
 * done, so each consume and refund is atomic. Idle windows are dropped a few at a time on each
 * consume, so memory follows the windows in use, not every key ever seen.
 */
export class MemoryCounters implements Counters {
  readonly #windows = new Map<string, LimitWindow>();
  /** The same windows in a list, which the sweep walks round by index without allocating. */
  readonly #sweepList: LimitWindow[] = [];
  #sweepAt = 0;
  /** The windows the running consume found, by limit; reused across calls so as not to allocate. */
  readonly #found: (LimitWindow | undefined)[] = [];

  /** How many windows are held, idle ones not yet dropped included. */
  get size(): number {
    return this.#windows.size;
  }

  async consume(request: ConsumeRequest): Promise<ConsumeResult> {
    const { limits, now } = request;
    // Looking at one window more than this call can add keeps idle ones from piling up.
    this.#dropSomeIdle(now, limits.length + 1);

    const decided = this.#decide(limits, now);
    const allowed = enforcedAllow(limits, decided);
    const standing = allowed ? decided : this.#uncharged(limits, decided, now);
    const reservation = allowed ? this.#charge(limits, decided, now) : NOTHING_CHARGED;
    return { allowed, limits: standing, reservation };
  }

  async refund(reservation: Reservation): Promise<void> {
    for (const charge of reservation) {
      const window = this.#windows.get(charge.key);
      if (window === undefined) continue;

      refundLimitInPlace(window.state, charge.config, charge.at, charge.cost);
      window.idleAt = limitIdleAt(window.state, charge.config);
    }
  }

  /** Drops every window idle at `now` and answers how many; consumes do it a few at a time. */
  dropIdle(now: number): number {
    const before = this.#windows.size;
    for (let place = this.#sweepList.length - 1; place >= 0; place -= 1) {
      this.#dropIfIdle(place, now);
    }
    return before - this.#windows.size;
  }

  async close(): Promise<void> {
    this.#windows.clear();
    this.#sweepList.length = 0;
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
      const added = { key, state, idleAt };
      this.#windows.set(key, added);
      this.#sweepList.push(added);
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
      const state = this.#found[index]?.state;
      return result(limit, decideLimit(state, limit.config, now, 0));
    });
  }

  /** Looks at up to `count` windows, going round the list, and drops the idle ones. */
  #dropSomeIdle(now: number, count: number): void {
    for (let looked = 0; looked < count; looked += 1) {
      if (this.#sweepAt >= this.#sweepList.length) this.#sweepAt = 0;
      if (!this.#dropIfIdle(this.#sweepAt, now)) this.#sweepAt += 1;
    }
  }

  /** Drops the window at `place` in the sweep list if it is idle; the last one takes its place. */
  #dropIfIdle(place: number, now: number): boolean {
    const window = this.#sweepList[place];
    if (window === undefined || window.idleAt > now) return false;

    this.#windows.delete(window.key);
    const last = this.#sweepList.pop();
    if (last !== undefined && last !== window) this.#sweepList[place] = last;
    return true;
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
