import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  chargeTokenBucketInPlace,
  commitTokenBucket,
  decideTokenBucket,
  refundTokenBucketInPlace,
  type TokenBucketState,
  tokenBucketIdleAt,
} from '../../src/core/limits/token-bucket.ts';
import type { LimitConfig } from '../../src/core/limits/types.ts';

/** Sends each `[now, cost]` in turn, committing what is allowed; answers the admission times. */
function run(config: LimitConfig, requests: readonly (readonly [number, number])[]) {
  let state: TokenBucketState | undefined;
  const admitted: { at: number; cost: number }[] = [];
  for (const [now, cost] of requests) {
    if (!decideTokenBucket(state, config, now, cost).allowed) continue;
    state = commitTokenBucket(state, config, now, cost);
    admitted.push({ at: now, cost });
  }
  return { state, admitted };
}

/** Requests at the running sum of their gaps after `start`. */
function timeline(start: number, steps: readonly (readonly [number, number])[]) {
  let now = start;
  return steps.map(([gap, cost]) => {
    now += gap;
    return [now, cost] as const;
  });
}

const bucket = (limit: number, duration: number, burst?: number): LimitConfig => ({
  limit,
  duration,
  algorithm: 'token-bucket',
  ...(burst === undefined ? {} : { burst }),
});

describe('token bucket', () => {
  it('starts full: admits a burst of `limit` at once, then the steady refill rate', () => {
    const config = bucket(10, 1000);
    const burst = Array.from({ length: 15 }, () => [0, 1] as const);
    const steady = Array.from({ length: 299 }, (_, index) => [10 + index * 10, 1] as const);
    const times = run(config, [...burst, ...steady]).admitted.map(({ at }) => at);
    assert.deepEqual(times.slice(0, 11), [...Array(10).fill(0), 100]);
    // Then one every 100 ms: 10 per second.
    assert.deepEqual(
      times.slice(10),
      Array.from({ length: 29 }, (_, index) => (index + 1) * 100),
    );
  });

  it('holds at most `burst` tokens, which may exceed the per-duration limit', () => {
    const config = bucket(10, 1000, 25);
    const burst = Array.from({ length: 40 }, () => [0, 1] as const);
    const after = Array.from({ length: 40 }, () => [60_000, 1] as const);
    const { admitted } = run(config, [...burst, ...after]);
    assert.equal(admitted.filter(({ at }) => at === 0).length, 25);
    assert.equal(admitted.filter(({ at }) => at === 60_000).length, 25);
  });

  it('refills exactly, with no drift from fractional rates', () => {
    // 3 tokens per 1000 ms: a token every 333⅓ ms, so floats would land a hair off.
    const config = bucket(3, 1000);
    const empty = commitTokenBucket(undefined, config, 0, 3);
    assert.equal(decideTokenBucket(empty, config, 999, 3).allowed, false);
    assert.deepEqual(decideTokenBucket(empty, config, 1000, 3), {
      allowed: true,
      remaining: 0,
      resetAt: 1334,
    });
    assert.equal(decideTokenBucket(empty, config, 333, 0).remaining, 0);
    assert.equal(decideTokenBucket(empty, config, 334, 0).remaining, 1);
  });

  it('answers resetAt as when the next token is there, or now when full', () => {
    const config = bucket(10, 1000);
    assert.deepEqual(decideTokenBucket(undefined, config, 5000, 0), {
      allowed: true,
      remaining: 10,
      resetAt: 5000,
    });
    assert.deepEqual(decideTokenBucket(undefined, config, 5000, 1), {
      allowed: true,
      remaining: 9,
      resetAt: 5100,
    });
    const drained = commitTokenBucket(undefined, config, 5000, 10);
    assert.deepEqual(decideTokenBucket(drained, config, 5030, 1), {
      allowed: false,
      remaining: 0,
      resetAt: 5100,
    });
  });

  it('lets a cost of 0 through an empty bucket without changing it', () => {
    const config = bucket(2, 1000);
    const drained = commitTokenBucket(undefined, config, 0, 2);
    assert.equal(decideTokenBucket(drained, config, 1, 0).allowed, true);
    assert.equal(commitTokenBucket(drained, config, 1, 0), drained);
  });

  it('denies a cost larger than the burst, even when full', () => {
    assert.equal(decideTokenBucket(undefined, bucket(5, 1000), 0, 6).allowed, false);
    assert.equal(decideTokenBucket(undefined, bucket(5, 1000, 8), 0, 8).allowed, true);
  });

  it('does not change the state it decides or commits from', () => {
    const config = bucket(10, 1000);
    const state = commitTokenBucket(undefined, config, 0, 4);
    const before = structuredClone(state);
    decideTokenBucket(state, config, 300, 1);
    decideTokenBucket(state, config, 300, 99);
    commitTokenBucket(state, config, 300, 2);
    assert.deepEqual(state, before);
    assert.equal(chargeTokenBucketInPlace(state, config, 300, 2), state);
    assert.notDeepEqual(state, before);
  });

  it('never admits more than burst plus the refill over any span (property)', () => {
    const scenario = fc.record({
      limit: fc.integer({ min: 1, max: 20 }),
      duration: fc.integer({ min: 1, max: 5000 }),
      extra: fc.nat({ max: 10 }),
      steps: fc.array(fc.tuple(fc.nat({ max: 500 }), fc.nat({ max: 6 })), { maxLength: 120 }),
    });
    fc.assert(
      fc.property(scenario, ({ limit, duration, extra, steps }) => {
        const config = bucket(limit, duration, limit + extra);
        const { admitted } = run(config, timeline(0, steps));
        for (const first of admitted) {
          for (const last of admitted.filter(({ at }) => at >= first.at)) {
            const spent = admitted
              .filter(({ at }) => at >= first.at && at <= last.at)
              .reduce((sum, { cost }) => sum + cost, 0);
            const refilled = ((last.at - first.at) * limit) / duration;
            assert.ok(spent <= limit + extra + refilled);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives refunded tokens back, never above the burst', () => {
    const config = bucket(10, 1000);
    const state = commitTokenBucket(undefined, config, 0, 6);
    refundTokenBucketInPlace(state, config, 4);
    assert.equal(decideTokenBucket(state, config, 0, 0).remaining, 8);
    refundTokenBucketInPlace(state, config, 9);
    assert.equal(decideTokenBucket(state, config, 0, 0).remaining, 10);
  });

  it('is idle from when it is full again', () => {
    const config = bucket(10, 1000);
    const state = commitTokenBucket(undefined, config, 0, 5);
    assert.equal(tokenBucketIdleAt(state, config), 500);
  });

  it('keeps only whole tokens when its duration changes', () => {
    const state = commitTokenBucket(undefined, bucket(10, 1000), 0, 7);
    assert.equal(decideTokenBucket(state, bucket(10, 60_000), 0, 0).remaining, 3);
    assert.equal(decideTokenBucket(state, bucket(10, 60_000), 6000, 0).remaining, 4);
  });
});
