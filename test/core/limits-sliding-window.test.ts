import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  chargeSlidingWindowInPlace,
  commitSlidingWindow,
  decideSlidingWindow,
  MAX_SUB_BUCKETS,
  refundSlidingWindowInPlace,
  type SlidingWindowState,
  slidingWindowChargeTime,
  slidingWindowIdleAt,
  subBucketWidth,
} from '../../src/core/limits/sliding-window.ts';
import type { LimitConfig } from '../../src/core/limits/types.ts';

interface Admitted {
  at: number;
  cost: number;
}

/** Sends each `[now, cost]` in turn, committing what is allowed; answers what was admitted. */
function run(config: LimitConfig, requests: readonly (readonly [number, number])[]) {
  let state: SlidingWindowState | undefined;
  const admitted: Admitted[] = [];
  for (const [now, cost] of requests) {
    const decision = decideSlidingWindow(state, config, now, cost);
    if (!decision.allowed) continue;
    state = commitSlidingWindow(state, config, now, cost);
    admitted.push({ at: now, cost });
  }
  return { state, admitted };
}

/** The most cost admitted in any closed span `[t, t + duration]`. */
function busiestSpan(admitted: readonly Admitted[], duration: number): number {
  let busiest = 0;
  for (const start of admitted) {
    const inSpan = admitted.filter(({ at }) => at >= start.at && at <= start.at + duration);
    busiest = Math.max(
      busiest,
      inSpan.reduce((sum, { cost }) => sum + cost, 0),
    );
  }
  return busiest;
}

/** Requests at the running sum of their gaps after `start`. */
function timeline(start: number, steps: readonly (readonly [number, number])[]) {
  let now = start;
  return steps.map(([gap, cost]) => {
    now += gap;
    return [now, cost] as const;
  });
}

const perSecond = (limit: number): LimitConfig => ({ limit, duration: 1000 });

describe('sliding window', () => {
  it('admits exactly the limit from a burst at one instant', () => {
    const requests = Array.from({ length: 25 }, () => [5_000, 1] as const);
    assert.equal(run(perSecond(10), requests).admitted.length, 10);
  });

  it('admits exactly the limit from a request every millisecond over one duration', () => {
    const requests = Array.from({ length: 1000 }, (_, index) => [60_000 + index, 1] as const);
    assert.equal(run(perSecond(100), requests).admitted.length, 100);
  });

  it('weighs requests by cost', () => {
    const requests = [
      [0, 4],
      [1, 4],
      [2, 4],
      [3, 2],
    ] as const;
    assert.deepEqual(
      run(perSecond(10), requests).admitted.map(({ cost }) => cost),
      [4, 4, 2],
    );
  });

  it('never admits more than the limit in any span of the duration (property)', () => {
    const request = fc.tuple(fc.nat({ max: 400 }), fc.nat({ max: 8 }));
    const scenario = fc.record({
      limit: fc.integer({ min: 1, max: 12 }),
      duration: fc.integer({ min: 1, max: 3000 }),
      steps: fc.array(request, { maxLength: 150 }),
    });
    fc.assert(
      fc.property(scenario, ({ limit, duration, steps }) => {
        const requests = timeline(1_700_000_000_000, steps);
        const { admitted } = run({ limit, duration }, requests);
        assert.ok(busiestSpan(admitted, duration) <= limit);
      }),
      { numRuns: 300 },
    );
  });

  it('reports resetAt honestly: nothing frees before it, something at it (property)', () => {
    const scenario = fc.record({
      limit: fc.integer({ min: 1, max: 10 }),
      duration: fc.integer({ min: 1, max: 5000 }),
      steps: fc.array(fc.tuple(fc.nat({ max: 2000 }), fc.integer({ min: 1, max: 4 })), {
        maxLength: 60,
      }),
    });
    fc.assert(
      fc.property(scenario, ({ limit, duration, steps }) => {
        const config = { limit, duration };
        let now = 0;
        let state: SlidingWindowState | undefined;
        for (const [gap, cost] of steps) {
          now += gap;
          const decision = decideSlidingWindow(state, config, now, cost);
          if (decision.allowed) state = commitSlidingWindow(state, config, now, cost);

          const standing = decideSlidingWindow(state, config, now, 0);
          assert.equal(standing.remaining, decision.remaining);
          if (standing.resetAt === now) {
            assert.equal(standing.remaining, limit);
            continue;
          }
          const before = decideSlidingWindow(state, config, standing.resetAt - 1, 0);
          const at = decideSlidingWindow(state, config, standing.resetAt, 0);
          assert.equal(before.remaining, standing.remaining);
          assert.ok(at.remaining > standing.remaining);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('admits within a few percent of the limit per duration under saturation', () => {
    const config = { limit: 100, duration: 60_000 };
    const hours = 6;
    const requests = Array.from(
      { length: (hours * 3_600_000) / 50 },
      (_, i) => [i * 50, 1] as const,
    );
    const admitted = run(config, requests).admitted.length;
    const ideal = (hours * 3_600_000 * config.limit) / config.duration;
    assert.ok(admitted <= ideal + config.limit, `${admitted} admitted, ideal ${ideal}`);
    assert.ok(admitted >= ideal * (MAX_SUB_BUCKETS / (MAX_SUB_BUCKETS + 1)) - 1);
    assert.ok(admitted / ideal > 0.97, `${admitted} admitted, ideal ${ideal}`);
  });

  it('lets a cost of 0 through a full window without changing it', () => {
    const { state } = run(perSecond(2), [[0, 2]]);
    const decision = decideSlidingWindow(state, perSecond(2), 10, 0);
    assert.deepEqual(decision, { allowed: true, remaining: 0, resetAt: 1025 });
    assert.equal(commitSlidingWindow(state, perSecond(2), 10, 0), state);
  });

  it('denies a cost larger than the limit, even on an unused window', () => {
    const decision = decideSlidingWindow(undefined, perSecond(5), 0, 6);
    assert.deepEqual(decision, { allowed: false, remaining: 5, resetAt: 0 });
  });

  it('answers remaining after the charge and resetAt when the oldest sub-bucket frees', () => {
    // 1000 ms in 40 sub-buckets of 25 ms: a charge at 1010 sits in [1000, 1025) and counts
    // until 1025 + 1000.
    const config = perSecond(10);
    assert.equal(subBucketWidth(config.duration), 25);
    const first = decideSlidingWindow(undefined, config, 1010, 3);
    assert.deepEqual(first, { allowed: true, remaining: 7, resetAt: 2025 });

    const state = commitSlidingWindow(undefined, config, 1010, 3);
    assert.deepEqual(decideSlidingWindow(state, config, 1500, 8), {
      allowed: false,
      remaining: 7,
      resetAt: 2025,
    });
    assert.equal(decideSlidingWindow(state, config, 2024, 8).allowed, false);
    assert.deepEqual(decideSlidingWindow(state, config, 2025, 8), {
      allowed: true,
      remaining: 2,
      resetAt: 3050,
    });
  });

  it('does not change the state it decides on', () => {
    const { state } = run(perSecond(10), [
      [0, 3],
      [400, 2],
      [900, 4],
    ]);
    const before = structuredClone(state);
    decideSlidingWindow(state, perSecond(10), 1200, 1);
    decideSlidingWindow(state, perSecond(10), 1200, 50);
    decideSlidingWindow(state, { limit: 10, duration: 333 }, 1200, 1);
    assert.deepEqual(state, before);
  });

  it('does not change the state it commits from, and charges in place on request', () => {
    const { state } = run(perSecond(10), [[0, 3]]);
    const before = structuredClone(state);
    const committed = commitSlidingWindow(state, perSecond(10), 500, 2);
    assert.deepEqual(state, before);

    const charged = chargeSlidingWindowInPlace(state, perSecond(10), 500, 2);
    assert.equal(charged, state);
    assert.deepEqual(charged, committed);
  });

  it('keeps a fixed-size ring and drops expired sub-buckets', () => {
    const config = { limit: 1_000_000, duration: 60_000 };
    const requests = Array.from({ length: 5000 }, (_, index) => [index * 997, 1] as const);
    const { state } = run(config, requests);
    assert.ok(state);
    assert.equal(state.counts.length, MAX_SUB_BUCKETS + 1);
    // Only what was charged in the last duration (and the sub-bucket being written) is held.
    const recent = requests.filter(([at]) => at > 4999 * 997 - 60_000 - 1500).length;
    assert.ok(state.total <= recent, `${state.total} held, ${recent} recent`);
  });

  it('splits tiny durations into 1 ms sub-buckets', () => {
    const config = { limit: 1, duration: 3 };
    const { admitted } = run(config, [
      [0, 1],
      [2, 1],
      [3, 1],
      [4, 1],
      [7, 1],
      [8, 1],
    ]);
    assert.deepEqual(
      admitted.map(({ at }) => at),
      [0, 4, 8],
    );
  });

  it('does not reopen spent capacity when the clock steps back', () => {
    const config = perSecond(2);
    const { state, admitted } = run(config, [
      [10_000, 2],
      [3_000, 1],
      [9_990, 1],
    ]);
    assert.equal(admitted.length, 1);
    assert.equal(slidingWindowChargeTime(state, 3_000), 10_000);
  });

  it('carries what a window counts over when its duration changes, so no burst opens', () => {
    const { state } = run(perSecond(10), [[0, 10]]);
    const longer = { limit: 10, duration: 5000 };
    assert.equal(decideSlidingWindow(state, longer, 500, 1).allowed, false);
    const shorter = { limit: 10, duration: 100 };
    assert.equal(decideSlidingWindow(state, shorter, 500, 1).allowed, false);
    assert.equal(decideSlidingWindow(state, shorter, 1200, 1).allowed, true);
  });

  it('gives back a refunded charge, and nothing once the charge has stopped counting', () => {
    const config = perSecond(10);
    const state = commitSlidingWindow(undefined, config, 0, 6);
    const at = slidingWindowChargeTime(state, 400);
    chargeSlidingWindowInPlace(state, config, 400, 3);
    refundSlidingWindowInPlace(state, config, at, 3);
    assert.equal(decideSlidingWindow(state, config, 400, 0).remaining, 4);

    chargeSlidingWindowInPlace(state, config, 400, 3);
    chargeSlidingWindowInPlace(state, config, 200_000, 1);
    refundSlidingWindowInPlace(state, config, at, 3);
    assert.equal(decideSlidingWindow(state, config, 200_000, 0).remaining, 9);
  });

  it('is idle from when its newest charge stops counting', () => {
    const config = perSecond(10);
    const state = commitSlidingWindow(undefined, config, 1010, 1);
    const idleAt = slidingWindowIdleAt(state, config);
    assert.ok(idleAt >= 2025);
    assert.equal(decideSlidingWindow(state, config, idleAt, 0).remaining, 10);
  });
});
