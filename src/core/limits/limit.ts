import {
  chargeSlidingWindowInPlace,
  commitSlidingWindow,
  decideSlidingWindow,
  refundSlidingWindowInPlace,
  type SlidingWindowState,
  slidingWindowChargeTime,
  slidingWindowIdleAt,
} from './sliding-window.ts';
import {
  chargeTokenBucketInPlace,
  commitTokenBucket,
  decideTokenBucket,
  refundTokenBucketInPlace,
  type TokenBucketState,
  tokenBucketIdleAt,
} from './token-bucket.ts';
import type { LimitConfig, LimitDecision } from './types.ts';

/**
 * The state of one rate limit of either algorithm; `undefined` stands for one never used. A
 * state of the other algorithm than its config names (the limit was switched) reads as unused.
 */
export type LimitState = SlidingWindowState | TokenBucketState;

/** Whether a charge of `cost` fits at `now`, without making it. A cost of 0 always fits. */
export function decideLimit(
  state: LimitState | undefined,
  config: LimitConfig,
  now: number,
  cost: number,
): LimitDecision {
  return config.algorithm === 'token-bucket'
    ? decideTokenBucket(asTokenBucket(state), config, now, cost)
    : decideSlidingWindow(asSlidingWindow(state), config, now, cost);
}

/** A new state: `state` once `cost` is charged at `now`. Call it after an allowing decide. */
export function commitLimit(
  state: LimitState | undefined,
  config: LimitConfig,
  now: number,
  cost: number,
): LimitState {
  return config.algorithm === 'token-bucket'
    ? commitTokenBucket(asTokenBucket(state), config, now, cost)
    : commitSlidingWindow(asSlidingWindow(state), config, now, cost);
}

/**
 * Charges `cost` at `now` into `state` itself, for the one owner of a state, and answers it (a
 * new state when there was none, or it no longer fits `config`). Spares the copy `commitLimit`
 * makes, which matters for a long-lived state charged many times a second.
 */
export function chargeLimitInPlace(
  state: LimitState | undefined,
  config: LimitConfig,
  now: number,
  cost: number,
): LimitState {
  return config.algorithm === 'token-bucket'
    ? chargeTokenBucketInPlace(asTokenBucket(state), config, now, cost)
    : chargeSlidingWindowInPlace(asSlidingWindow(state), config, now, cost);
}

/** When a charge made at `now` is booked; a refund takes it to find the charge again. */
export function limitChargeTime(
  state: LimitState | undefined,
  config: LimitConfig,
  now: number,
): number {
  return config.algorithm === 'token-bucket'
    ? now
    : slidingWindowChargeTime(asSlidingWindow(state), now);
}

/** Gives back, in `state` itself, a charge of `cost` booked at `chargedAt`. */
export function refundLimitInPlace(
  state: LimitState,
  config: LimitConfig,
  chargedAt: number,
  cost: number,
): void {
  if (state.kind === 'token-bucket') {
    if (config.algorithm === 'token-bucket') refundTokenBucketInPlace(state, config, cost);
  } else if (config.algorithm !== 'token-bucket') {
    refundSlidingWindowInPlace(state, config, chargedAt, cost);
  }
}

/** From when the state says no more than an unused one, so that it can be forgotten. */
export function limitIdleAt(state: LimitState, config: LimitConfig): number {
  if (state.kind === 'token-bucket') {
    return config.algorithm === 'token-bucket' ? tokenBucketIdleAt(state, config) : 0;
  }
  return config.algorithm === 'token-bucket' ? 0 : slidingWindowIdleAt(state, config);
}

function asTokenBucket(state: LimitState | undefined): TokenBucketState | undefined {
  return state?.kind === 'token-bucket' ? state : undefined;
}

function asSlidingWindow(state: LimitState | undefined): SlidingWindowState | undefined {
  return state?.kind === 'sliding-window' ? state : undefined;
}
