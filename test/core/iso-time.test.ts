import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isoTime } from '../../src/core/iso-time.ts';

const MAX_DATE_MS = 8.64e15;
const YEAR_10000_MS = Date.UTC(10000, 0, 1);

describe('isoTime', () => {
  it('writes every time as Date.prototype.toISOString does', () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX_DATE_MS, max: MAX_DATE_MS }), (ms) => {
        assert.equal(isoTime(ms), new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('writes times of the same few days, in any order, as Date does', () => {
    const today = Date.UTC(2026, 11, 4);
    const near = fc.integer({ min: today - 86_400_000, max: today + 2 * 86_400_000 });
    fc.assert(
      fc.property(fc.array(near, { minLength: 1, maxLength: 50 }), (times) => {
        for (const ms of times) assert.equal(isoTime(ms), new Date(ms).toISOString());
      }),
    );
  });

  it('gets the edges of days and of its range right', () => {
    const edges = [
      0,
      -1,
      86_399_999,
      86_400_000,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2024, 2, 1),
      YEAR_10000_MS - 1,
      YEAR_10000_MS,
      -MAX_DATE_MS,
      MAX_DATE_MS,
    ];
    for (const ms of edges) assert.equal(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);
  });

  it('treats a fractional time as Date does', () => {
    assert.equal(isoTime(1.9), '1970-01-01T00:00:00.001Z');
    assert.equal(isoTime(Date.UTC(2026, 0, 1) + 0.5), '2026-01-01T00:00:00.000Z');
  });

  it('throws RangeError for a time that is not one, as Date does', () => {
    for (const ms of [Number.NaN, Number.POSITIVE_INFINITY, MAX_DATE_MS + 1]) {
      assert.throws(() => isoTime(ms), RangeError);
    }
  });
});
