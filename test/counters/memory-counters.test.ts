import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LimitConfig } from '../../src/core/limits/types.ts';
import { MemoryCounters } from '../../src/counters/memory/memory-counters.ts';
import type { LimitRequest } from '../../src/counters/types.ts';

function limit(key: string, config: LimitConfig, cost = 1, shadow = false): LimitRequest {
  return { key, name: key, config, cost, shadow };
}

const perSecond = (count: number): LimitConfig => ({ limit: count, duration: 1000 });

/** How much of `request`'s window is left at `now`, read without charging. */
async function remaining(counters: MemoryCounters, request: LimitRequest, now: number) {
  const result = await counters.consume({ limits: [{ ...request, cost: 0 }], now });
  return result.limits[0]?.remaining;
}

describe('memory counters', () => {
  it('charges every limit when all allow, and reports each', async () => {
    const counters = new MemoryCounters();
    const result = await counters.consume({
      limits: [
        limit('a', perSecond(5), 2),
        limit('b', { ...perSecond(3), algorithm: 'token-bucket' }),
      ],
      now: 1000,
    });
    assert.equal(result.allowed, true);
    assert.deepEqual(
      result.limits.map(({ name, limit, duration, remaining, exceeded }) => ({
        name,
        limit,
        duration,
        remaining,
        exceeded,
      })),
      [
        { name: 'a', limit: 5, duration: 1000, remaining: 3, exceeded: false },
        { name: 'b', limit: 3, duration: 1000, remaining: 2, exceeded: false },
      ],
    );
    assert.equal(result.reservation.length, 2);
  });

  it('charges nothing when one limit denies, and reports the others uncharged', async () => {
    const counters = new MemoryCounters();
    const roomy = limit('roomy', perSecond(100));
    const tight = limit('tight', perSecond(1));
    await counters.consume({ limits: [tight], now: 0 });

    const result = await counters.consume({ limits: [roomy, tight], now: 10 });
    assert.equal(result.allowed, false);
    assert.deepEqual(result.reservation, []);
    assert.deepEqual(
      result.limits.map(({ remaining, exceeded }) => ({ remaining, exceeded })),
      [
        { remaining: 100, exceeded: false },
        { remaining: 0, exceeded: true },
      ],
    );
    assert.equal(await remaining(counters, roomy, 10), 100);
  });

  it('admits exactly the limit from a burst of consumes at one instant', async () => {
    const counters = new MemoryCounters();
    const request = { limits: [limit('k', perSecond(7))], now: 5000 };
    const results = await Promise.all(Array.from({ length: 20 }, () => counters.consume(request)));
    assert.equal(results.filter(({ allowed }) => allowed).length, 7);
  });

  it('counts shadow limits and reports them exceeded, but never denies for them', async () => {
    const counters = new MemoryCounters();
    const shadow = limit('shadow', perSecond(2), 1, true);
    const enforced = limit('enforced', perSecond(10));
    const results = [];
    for (let call = 0; call < 4; call += 1) {
      results.push(await counters.consume({ limits: [enforced, shadow], now: 100 }));
    }
    assert.deepEqual(
      results.map(({ allowed }) => allowed),
      [true, true, true, true],
    );
    assert.deepEqual(
      results.map(({ limits }) => limits[1]?.exceeded),
      [false, false, true, true],
    );
    // Counted like an enforced limit: the two it would have denied were not charged to it.
    assert.equal(await remaining(counters, shadow, 100), 0);
    assert.equal(await remaining(counters, enforced, 100), 6);
  });

  it('charges no shadow limit when an enforced one denies', async () => {
    const counters = new MemoryCounters();
    const shadow = limit('shadow', perSecond(10), 1, true);
    const closed = limit('closed', perSecond(0));
    const result = await counters.consume({ limits: [shadow, closed], now: 0 });
    assert.equal(result.allowed, false);
    assert.equal(await remaining(counters, shadow, 0), 10);
  });

  it('refunds exactly what a consume charged', async () => {
    const counters = new MemoryCounters();
    const window = limit('window', perSecond(10), 3);
    const bucket = limit('bucket', { ...perSecond(10), algorithm: 'token-bucket' }, 4);
    await counters.consume({ limits: [window, bucket], now: 0 });

    const result = await counters.consume({ limits: [window, bucket], now: 0 });
    assert.equal(result.allowed, true);
    await counters.refund(result.reservation);
    assert.equal(await remaining(counters, window, 0), 7);
    assert.equal(await remaining(counters, bucket, 0), 6);
  });

  it('refunds nothing for a denied consume, nor for shadow limits it did not charge', async () => {
    const counters = new MemoryCounters();
    const shadow = limit('shadow', perSecond(1), 1, true);
    const enforced = limit('enforced', perSecond(5));
    await counters.consume({ limits: [shadow], now: 0 });

    const passed = await counters.consume({ limits: [enforced, shadow], now: 0 });
    assert.deepEqual(
      passed.reservation.map(({ key }) => key),
      ['enforced'],
    );
    await counters.refund(passed.reservation);
    assert.equal(await remaining(counters, shadow, 0), 0);
    assert.equal(await remaining(counters, enforced, 0), 5);
  });

  it('keeps no window for a consume that charges nothing', async () => {
    const counters = new MemoryCounters();
    await counters.consume({ limits: [limit('free', perSecond(5), 0)], now: 0 });
    await counters.consume({ limits: [limit('too-big', perSecond(5), 6)], now: 0 });
    assert.equal(counters.size, 0);
  });

  it('drops idle windows a few at a time as consumes go on', async () => {
    const counters = new MemoryCounters();
    for (let key = 0; key < 1000; key += 1) {
      await counters.consume({ limits: [limit(`old:${key}`, perSecond(5))], now: 0 });
    }
    assert.equal(counters.size, 1000);

    // Long after those windows went idle, a stream of consumes on a few other keys.
    for (let call = 0; call < 1200; call += 1) {
      await counters.consume({ limits: [limit(`new:${call % 10}`, perSecond(5000))], now: 60_000 });
    }
    assert.equal(counters.size, 10);
  });

  it('holds memory bounded by the windows in use over a long stream of distinct keys', async () => {
    const counters = new MemoryCounters();
    let largest = 0;
    for (let call = 0; call < 20_000; call += 1) {
      await counters.consume({ limits: [limit(`key:${call}`, perSecond(5))], now: call * 5 });
      largest = Math.max(largest, counters.size);
    }
    // 200 keys are live in any one second; idle ones wait at most a pass of the map.
    assert.ok(largest < 800, `held up to ${largest} windows`);
  });

  it('keeps a window that still counts, and drops it once idle', async () => {
    const counters = new MemoryCounters();
    const window = limit('window', perSecond(5), 5);
    const bucket = limit('bucket', { ...perSecond(5), algorithm: 'token-bucket' }, 5);
    await counters.consume({ limits: [window, bucket], now: 0 });

    assert.equal(counters.dropIdle(999), 0);
    assert.equal(await remaining(counters, window, 999), 0);
    assert.equal(counters.dropIdle(1000), 1);
    assert.equal(await remaining(counters, bucket, 1000), 5);
    assert.equal(counters.dropIdle(3000), 1);
    assert.equal(counters.size, 0);
  });

  it('holds one window for a consume that names it twice', async () => {
    const counters = new MemoryCounters();
    const twice = [limit('same', perSecond(5), 2), limit('same', perSecond(5), 1)];
    assert.equal((await counters.consume({ limits: twice, now: 0 })).allowed, true);
    assert.equal(counters.size, 1);
    assert.equal(await remaining(counters, limit('same', perSecond(5)), 0), 2);
    assert.equal(counters.dropIdle(5000), 1);
    assert.equal(counters.size, 0);
  });

  it('lets go of every window on close', async () => {
    const counters = new MemoryCounters();
    await counters.consume({ limits: [limit('a', perSecond(5))], now: 0 });
    await counters.close();
    assert.equal(counters.size, 0);
  });
});

describe('memory counters, over random sequences', () => {
  const configs: LimitConfig[] = [
    { limit: 3, duration: 1000 },
    { limit: 5, duration: 400, algorithm: 'token-bucket', burst: 7 },
    { limit: 4, duration: 2500 },
  ];
  const step = fc.record({
    gap: fc.nat({ max: 300 }),
    costs: fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 4 }), fc.nat({ max: 4 })),
    shadow: fc.nat({ max: 3 }),
    refund: fc.boolean(),
  });

  /** Every limit's standing at `now`, read by consuming nothing. */
  async function standing(counters: MemoryCounters, now: number) {
    const limits = configs.map((config, index) => limit(`w${index}`, config, 0));
    return (await counters.consume({ limits, now })).limits;
  }

  it('leaves every window as it was after a denied consume, or a refunded one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const counters = new MemoryCounters();
        let now = 1_000_000;
        for (const { gap, costs, shadow, refund } of steps) {
          now += gap;
          const limits = configs.map((config, index) =>
            limit(`w${index}`, config, costs[index], index === shadow),
          );
          const before = await standing(counters, now);
          const result = await counters.consume({ limits, now });
          if (result.allowed && refund) await counters.refund(result.reservation);
          if (!result.allowed || refund) assert.deepEqual(await standing(counters, now), before);
        }
      }),
      { numRuns: 200 },
    );
  });
});
