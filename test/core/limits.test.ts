import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chargeLimitInPlace,
  commitLimit,
  decideLimit,
  limitChargeTime,
  limitIdleAt,
  refundLimitInPlace,
} from '../../src/core/limits/limit.ts';
import type { LimitConfig } from '../../src/core/limits/types.ts';

const window: LimitConfig = { limit: 5, duration: 1000 };
const bucket: LimitConfig = { limit: 5, duration: 1000, algorithm: 'token-bucket' };

describe('limits of either algorithm', () => {
  it('counts in a sliding window unless the config names the token bucket', () => {
    assert.equal(commitLimit(undefined, window, 0, 1).kind, 'sliding-window');
    assert.equal(commitLimit(undefined, bucket, 0, 1).kind, 'token-bucket');
    assert.equal(
      commitLimit(undefined, { ...window, algorithm: 'sliding-window' }, 0, 1).kind,
      'sliding-window',
    );
  });

  it('reads a state of the other algorithm as unused, and as idle', () => {
    const spent = commitLimit(undefined, window, 0, 5);
    assert.equal(decideLimit(spent, window, 10, 1).allowed, false);
    assert.deepEqual(decideLimit(spent, bucket, 10, 1), {
      allowed: true,
      remaining: 4,
      resetAt: 210,
    });
    assert.equal(limitIdleAt(spent, bucket), 0);
    assert.equal(chargeLimitInPlace(spent, bucket, 10, 1).kind, 'token-bucket');
  });

  it('refunds a charge in place, found by its charge time', () => {
    for (const config of [window, bucket]) {
      const state = commitLimit(undefined, config, 0, 2);
      const at = limitChargeTime(state, config, 100);
      chargeLimitInPlace(state, config, 100, 3);
      assert.equal(decideLimit(state, config, 100, 0).remaining, 0);
      refundLimitInPlace(state, config, at, 3);
      assert.equal(decideLimit(state, config, 100, 0).remaining, 3);
    }
  });
});
