import type { LimitConfig, LimitDecision } from './types.ts';

/**
 * The most sub-buckets a window is split into. A sub-bucket's cost counts as if all of it was
 * spent at the sub-bucket's end, so a window never admits more than `limit` in any span of
 * `duration`, and a saturated one admits at least `limit` per `duration + width` (40/41 of the
 * limit when `duration` is a multiple of 40 ms; less for durations of a few ms, since a
 * sub-bucket is at least 1 ms wide).
 */
export const MAX_SUB_BUCKETS = 40;

/**
 * A sliding window's spent cost per sub-bucket, in a ring. Only the `…InPlace` functions change
 * one; the rest read it, or answer a new one.
 */
export interface SlidingWindowState {
  readonly kind: 'sliding-window';
  /** The duration the ring is laid out for; a window whose duration changed is laid out anew. */
  readonly duration: number;
  /** Sub-bucket width in ms, `subBucketWidth(duration)`. */
  readonly width: number;
  /** The newest sub-bucket written, as `floor(time / width)`. */
  head: number;
  /** No cost sits in a sub-bucket older than this one, so looking for the oldest starts here. */
  oldest: number;
  /** The sum of `counts`: what the ring holds, expired sub-buckets not yet emptied included. */
  total: number;
  /** Sub-bucket `b` sits at `b mod counts.length`; buckets older than the ring are spent. */
  readonly counts: number[];
}

/** The width of a window's sub-buckets: whole milliseconds, at least one. */
export function subBucketWidth(duration: number): number {
  return Math.max(1, Math.ceil(duration / MAX_SUB_BUCKETS));
}

/**
 * When a charge made at `now` is booked. Never before the newest sub-bucket, so a clock that
 * steps back books into that sub-bucket rather than reopening capacity already spent.
 */
export function slidingWindowChargeTime(
  state: SlidingWindowState | undefined,
  now: number,
): number {
  return state === undefined ? now : Math.max(now, state.head * state.width);
}

/** Whether a charge of `cost` fits at `now`, without making it. */
export function decideSlidingWindow(
  state: SlidingWindowState | undefined,
  config: LimitConfig,
  now: number,
  cost: number,
): LimitDecision {
  const window = inGeometry(state, config.duration, now);
  const at = slidingWindowChargeTime(window, now);
  const spent = window === undefined ? 0 : spentAt(window, config.duration, at);

  const allowed = cost === 0 || cost <= config.limit - spent;
  const charged = allowed ? cost : 0;
  const remaining = Math.max(0, config.limit - spent - charged);
  return { allowed, remaining, resetAt: resetTime(window, config.duration, at, charged, now) };
}

/** A new state: `state` once `cost` is charged at `now`. Call it after an allowing decide. */
export function commitSlidingWindow(
  state: SlidingWindowState | undefined,
  config: LimitConfig,
  now: number,
  cost: number,
): SlidingWindowState {
  if (state !== undefined && cost === 0) return state;

  const copy = state === undefined ? undefined : { ...state, counts: state.counts.slice() };
  return chargeSlidingWindowInPlace(copy, config, now, cost);
}

/**
 * Charges `cost` at `now` into `state` itself, for the one owner of a state, and answers it (a
 * new state when there was none or its duration changed). Expired sub-buckets are emptied.
 */
export function chargeSlidingWindowInPlace(
  state: SlidingWindowState | undefined,
  config: LimitConfig,
  now: number,
  cost: number,
): SlidingWindowState {
  const window = inGeometry(state, config.duration, now) ?? empty(config.duration);
  const head = Math.floor(slidingWindowChargeTime(window, now) / window.width);
  advance(window, head);

  const slot = ringSlot(head, window.counts.length);
  window.counts[slot] = (window.counts[slot] ?? 0) + cost;
  window.total += cost;
  window.oldest = firstNonEmpty(window, window.oldest);
  return window;
}

/**
 * Gives back, in `state` itself, a charge of `cost` booked at `chargedAt`. A charge that has
 * left the ring no longer counts, and one whose window changed duration since cannot be told
 * from the rest: both are left alone, which never admits more than the limit.
 */
export function refundSlidingWindowInPlace(
  state: SlidingWindowState,
  config: LimitConfig,
  chargedAt: number,
  cost: number,
): void {
  const slots = state.counts.length;
  const bucket = Math.floor(chargedAt / state.width);
  const inRing = bucket <= state.head && bucket > state.head - slots;
  if (!inRing || state.duration !== config.duration) return;

  const slot = ringSlot(bucket, slots);
  const given = Math.min(cost, state.counts[slot] ?? 0);
  state.counts[slot] = (state.counts[slot] ?? 0) - given;
  state.total -= given;
}

/** From when the window holds nothing that still counts, so that it can be forgotten. */
export function slidingWindowIdleAt(state: SlidingWindowState, config: LimitConfig): number {
  // The ring may have been laid out for another duration: wait for whichever counts longer.
  const ringEnd = (state.head + state.counts.length) * state.width;
  return Math.max(ringEnd, (state.head + 1) * state.width + config.duration);
}

/** Ring slots needed: every sub-bucket that can still count, plus the one being written. */
function slotCount(duration: number, width: number): number {
  return Math.max(1, Math.ceil(duration / width) + 1);
}

/**
 * `bucket mod slots`, never negative. Not with `%`: bucket numbers outgrow 32 bits, and `%` on
 * such numbers is a slow library call, on the path of every consume.
 */
function ringSlot(bucket: number, slots: number): number {
  return bucket - Math.floor(bucket / slots) * slots;
}

/** The oldest sub-bucket still counting at `at`: each counts until its end plus `duration`. */
function oldestCounting(state: SlidingWindowState, duration: number, at: number): number {
  const oldest = Math.floor((at - duration) / state.width);
  return Math.max(oldest, state.head - state.counts.length + 1);
}

/** The cost still counting at `at`: the total less the expired sub-buckets not yet emptied. */
function spentAt(state: SlidingWindowState, duration: number, at: number): number {
  const { counts, head } = state;
  const first = oldestCounting(state, duration, at);
  if (first > head) return 0;

  let spent = state.total;
  let slot = ringSlot(head + 1, counts.length);
  for (let bucket = head - counts.length + 1; bucket < first; bucket += 1) {
    spent -= counts[slot] ?? 0;
    slot = slot + 1 === counts.length ? 0 : slot + 1;
  }
  return spent;
}

/** The first sub-bucket from `from` on that holds any cost; `head + 1` when none does. */
function firstNonEmpty(state: SlidingWindowState, from: number): number {
  const { counts, head } = state;
  const first = Math.max(from, head - counts.length + 1);
  let slot = ringSlot(first, counts.length);
  for (let bucket = first; bucket <= head; bucket += 1) {
    if ((counts[slot] ?? 0) > 0) return bucket;
    slot = slot + 1 === counts.length ? 0 : slot + 1;
  }
  return head + 1;
}

/** When the oldest counted cost (after charging `charged` at `at`) stops counting. */
function resetTime(
  window: SlidingWindowState | undefined,
  duration: number,
  at: number,
  charged: number,
  now: number,
): number {
  const width = subBucketWidth(duration);
  if (window !== undefined) {
    const from = Math.max(window.oldest, oldestCounting(window, duration, at));
    const oldest = firstNonEmpty(window, from);
    if (oldest <= window.head) return (oldest + 1) * width + duration;
  }
  return charged > 0 ? (Math.floor(at / width) + 1) * width + duration : now;
}

/**
 * The state laid out for `duration`. A window whose duration changed keeps everything it still
 * counts, booked as spent now, so that a new setting never opens a burst.
 */
function inGeometry(
  state: SlidingWindowState | undefined,
  duration: number,
  now: number,
): SlidingWindowState | undefined {
  if (state === undefined || state.duration === duration) return state;

  const at = slidingWindowChargeTime(state, now);
  const spent = spentAt(state, (state.counts.length - 1) * state.width, at);
  if (spent === 0) return undefined;

  const window = empty(duration);
  window.head = Math.floor(at / window.width);
  window.oldest = window.head;
  window.counts[ringSlot(window.head, window.counts.length)] = spent;
  window.total = spent;
  return window;
}

/** Moves the ring on to `head`, emptying the sub-buckets it passes over. */
function advance(state: SlidingWindowState, head: number): void {
  const slots = state.counts.length;
  for (let bucket = Math.max(state.head + 1, head - slots + 1); bucket <= head; bucket += 1) {
    const slot = ringSlot(bucket, slots);
    state.total -= state.counts[slot] ?? 0;
    state.counts[slot] = 0;
  }
  state.head = Math.max(state.head, head);
}

function empty(duration: number): SlidingWindowState {
  const width = subBucketWidth(duration);
  const counts: number[] = [];
  for (let slot = slotCount(duration, width); slot > 0; slot -= 1) counts.push(0);
  const head = Number.NEGATIVE_INFINITY;
  return { kind: 'sliding-window', duration, width, head, oldest: head, total: 0, counts };
}
