import type { LimitConfig, LimitDecision } from './types.ts';

/**
 * A token bucket's level. Tokens are kept multiplied by the duration, so that refilling `limit`
 * tokens per `duration` adds exactly `limit` per millisecond: integer arithmetic, no drift, while
 * `burst × duration` stays below 2^53 (a burst of a million over 100 days). Only the
 * `…InPlace` functions change one; the rest read it, or answer a new one.
 */
export interface TokenBucketState {
  readonly kind: 'token-bucket';
  /** The duration the level is scaled by; a bucket whose duration changed is rescaled. */
  readonly duration: number;
  /** Tokens × `duration`, as of `updatedAt`. */
  level: number;
  updatedAt: number;
}

/**
 * Whether a charge of `cost` tokens fits at `now`, without taking it. A bucket never used is
 * full. `resetAt` is when the next whole token will be there, or `now` when the bucket is full.
 */
export function decideTokenBucket(
  state: TokenBucketState | undefined,
  config: LimitConfig,
  now: number,
  cost: number,
): LimitDecision {
  const level = levelAt(state, config, now);
  const needed = cost * config.duration;

  const allowed = cost === 0 || needed <= level;
  const left = allowed ? level - needed : level;
  const remaining = Math.max(0, Math.floor(left / config.duration));
  return { allowed, remaining, resetAt: nextTokenAt(left, config, now) };
}

/** A new state: `state` once `cost` tokens are taken at `now`. Call it after an allowing decide. */
export function commitTokenBucket(
  state: TokenBucketState | undefined,
  config: LimitConfig,
  now: number,
  cost: number,
): TokenBucketState {
  if (state !== undefined && cost === 0) return state;
  return chargeTokenBucketInPlace(
    state === undefined ? undefined : { ...state },
    config,
    now,
    cost,
  );
}

/**
 * Takes `cost` tokens at `now` from `state` itself, for the one owner of a state, and answers it
 * (a new state when there was none or its duration changed).
 */
export function chargeTokenBucketInPlace(
  state: TokenBucketState | undefined,
  config: LimitConfig,
  now: number,
  cost: number,
): TokenBucketState {
  const level = levelAt(state, config, now) - cost * config.duration;
  // A clock that steps back neither refills nor moves the bucket back in time.
  const updatedAt = state === undefined ? now : Math.max(now, state.updatedAt);
  if (state === undefined || state.duration !== config.duration) {
    return { kind: 'token-bucket', duration: config.duration, level, updatedAt };
  }

  state.level = level;
  state.updatedAt = updatedAt;
  return state;
}

/** Gives `cost` tokens back to `state` itself, never above the burst. */
export function refundTokenBucketInPlace(
  state: TokenBucketState,
  config: LimitConfig,
  cost: number,
): void {
  if (state.duration !== config.duration) return;
  state.level = Math.min(capacity(config), state.level + cost * config.duration);
}

/** From when the bucket is full again, so that it can be forgotten: a new one starts full. */
export function tokenBucketIdleAt(state: TokenBucketState, config: LimitConfig): number {
  const missing = capacity(config) - levelAt(state, config, state.updatedAt);
  return missing <= 0 ? state.updatedAt : state.updatedAt + Math.ceil(missing / config.limit);
}

/** The most the bucket holds, scaled like its level. */
function capacity(config: LimitConfig): number {
  return (config.burst ?? config.limit) * config.duration;
}

/** The level at `now`, refilled and scaled for `config`. */
function levelAt(state: TokenBucketState | undefined, config: LimitConfig, now: number): number {
  const full = capacity(config);
  if (state === undefined) return full;

  // Rescaling keeps whole tokens only, so a changed duration never adds any.
  const level =
    state.duration === config.duration
      ? state.level
      : Math.floor(state.level / state.duration) * config.duration;
  const elapsed = Math.max(0, now - state.updatedAt);
  return Math.min(full, level + elapsed * config.limit);
}

/** When the level, now `left`, reaches the next whole token; `now` when it is full. */
function nextTokenAt(left: number, config: LimitConfig, now: number): number {
  if (left >= capacity(config)) return now;

  const whole = Math.floor(left / config.duration);
  return now + Math.ceil(((whole + 1) * config.duration - left) / config.limit);
}
