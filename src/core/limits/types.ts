/** How a rate limit counts: a sliding window (the default) or a token bucket. */
export type LimitAlgorithm = 'sliding-window' | 'token-bucket';

/** A rate limit's arithmetic: `limit` units per `duration` milliseconds. */
export interface LimitConfig {
  limit: number;
  /** Milliseconds. */
  duration: number;
  /** `sliding-window` when absent. */
  algorithm?: LimitAlgorithm;
  /** Token bucket only: the most tokens held at once; `limit` when absent. */
  burst?: number;
}

/**
 * What a limit says about one charge, without making it. `remaining` is what is left once the
 * charge is made (when allowed) or as things stand (when not); `resetAt` is when `remaining`
 * next grows, or `now` when nothing is spent.
 */
export interface LimitDecision {
  allowed: boolean;
  remaining: number;
  resetAt: number;
}
