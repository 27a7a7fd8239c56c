import { lastRefillBoundary, type RefillSchedule } from './refill.ts';

/** A credit balance as the counters hold it between verifications. */
export interface LiveCredits {
  remaining: number;
  /** Bumped by every change made by hand; charges leave it alone. */
  version: number;
  /** When it was last refilled or set by hand (ms since the epoch). */
  refilledAt: number;
  refill: RefillSchedule | null;
}

/**
 * The balance as it stands at `now`: reset to the refill amount when a refill time has passed
 * since the last refill. Answers `credits` itself when nothing changed.
 *
 * @example
 * const daily = { interval: 'daily', amount: 100 } as const;
 * refillCredits({ remaining: 3, version: 1, refilledAt: 0, refill: daily }, 86_400_000);
 * // { remaining: 100, version: 1, refilledAt: 86_400_000, refill: daily }
 */
export function refillCredits(credits: LiveCredits, now: number): LiveCredits {
  if (credits.refill === null) return credits;

  const boundary = lastRefillBoundary(credits.refill, now);
  if (boundary === null || boundary <= credits.refilledAt) return credits;
  return { ...credits, remaining: credits.refill.amount, refilledAt: boundary };
}

/**
 * The balance to decide with, from what is held (if anything) and what the store has: the
 * store's when it was changed by hand since (a newer version), else the lower of the two, since
 * the store may know of charges made on other nodes and the held one of charges not yet written.
 * Both are refilled to `now` first.
 */
export function reconcileCredits(
  held: LiveCredits | undefined,
  stored: LiveCredits,
  now: number,
): LiveCredits {
  const fromStore = refillCredits(stored, now);
  if (held === undefined || fromStore.version > held.version) return { ...fromStore };

  const live = refillCredits(held, now);
  if (fromStore.version < live.version || fromStore.remaining >= live.remaining) return live;
  return { ...live, remaining: fromStore.remaining };
}
