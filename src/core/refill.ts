/** How often a credit balance is reset, and to what. */
export interface RefillSchedule {
  interval: 'daily' | 'monthly' | 'never';
  /** The balance after a refill: it replaces what was left, it is not added to it. */
  amount: number;
  /** Monthly only: the day of the month, 1 when absent; a shorter month refills on its last day. */
  day?: number;
}

/** A credit balance as the refill rule sees it. */
export interface CreditBalance {
  remaining: number;
  refill?: RefillSchedule;
  /** When the balance was last refilled (ms since the epoch); absent when it never was. */
  refilledAt?: number;
}

const DAY_MS = 86_400_000;

/**
 * The latest refill time at or before `now` (00:00 UTC), or `null` for `never`.
 *
 * @example
 * lastRefillBoundary({ interval: 'daily', amount: 5 }, Date.UTC(2024, 0, 2, 13));
 * // Date.UTC(2024, 0, 2)
 */
export function lastRefillBoundary(refill: RefillSchedule, now: number): number | null {
  if (refill.interval === 'never') return null;
  if (refill.interval === 'daily') return Math.floor(now / DAY_MS) * DAY_MS;

  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const thisMonth = monthlyBoundary(year, month, refill.day);
  return thisMonth <= now ? thisMonth : monthlyBoundary(year, month - 1, refill.day);
}

/**
 * The first refill time after `now` (00:00 UTC), or `null` for `never`.
 *
 * @example
 * nextRefillAt({ interval: 'monthly', amount: 5, day: 31 }, Date.UTC(2023, 1, 3));
 * // Date.UTC(2023, 1, 28): February's last day
 */
export function nextRefillAt(refill: RefillSchedule, now: number): number | null {
  if (refill.interval === 'never') return null;
  if (refill.interval === 'daily') return Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;

  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const thisMonth = monthlyBoundary(year, month, refill.day);
  return thisMonth > now ? thisMonth : monthlyBoundary(year, month + 1, refill.day);
}

/**
 * The balance at `now`: `remaining` reset to the refill amount when a refill time has passed
 * since `refilledAt`, which then becomes `now`. Setting a balance by hand should set
 * `refilledAt` too, so that a refill time before it does not overwrite it. A balance with no
 * `refilledAt` counts from `since`, given by the caller: when it was created or last set (by
 * default `now`, so that no refill time has passed yet). Answers `credits` itself when nothing
 * changed.
 */
export function applyRefill(credits: CreditBalance, now: number, since = now): CreditBalance {
  if (credits.refill === undefined) return credits;

  const boundary = lastRefillBoundary(credits.refill, now);
  if (boundary === null || boundary <= (credits.refilledAt ?? since)) return credits;
  return { ...credits, remaining: credits.refill.amount, refilledAt: now };
}

/** 00:00 UTC on `day` (1 when absent) of a month, or on its last day when it is shorter. */
function monthlyBoundary(year: number, month: number, day = 1): number {
  // Day 0 of the next month is the last day of this one; Date.UTC carries months over years.
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(year, month, Math.min(Math.max(1, day), lastDay));
}
