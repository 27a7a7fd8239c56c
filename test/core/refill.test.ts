import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyRefill,
  type CreditBalance,
  lastRefillBoundary,
  nextRefillAt,
  type RefillSchedule,
} from '../../src/core/refill.ts';

const daily: RefillSchedule = { interval: 'daily', amount: 100 };
const monthly = (day?: number): RefillSchedule => ({
  interval: 'monthly',
  amount: 100,
  ...(day === undefined ? {} : { day }),
});
const utc = (...parts: [number, number, number, number?, number?, number?, number?]) =>
  Date.UTC(...parts);

describe('refill schedules', () => {
  it('refills daily at 00:00 UTC', () => {
    const now = utc(2024, 5, 10, 13, 45);
    assert.equal(lastRefillBoundary(daily, now), utc(2024, 5, 10));
    assert.equal(nextRefillAt(daily, now), utc(2024, 5, 11));
  });

  it('counts 00:00 UTC itself as the refill, not the day before', () => {
    const midnight = utc(2024, 5, 10);
    assert.equal(lastRefillBoundary(daily, midnight), midnight);
    assert.equal(nextRefillAt(daily, midnight), utc(2024, 5, 11));
    assert.equal(lastRefillBoundary(daily, midnight - 1), utc(2024, 5, 9));
    assert.equal(nextRefillAt(daily, midnight - 1), midnight);
  });

  it('refills monthly on day 1 when no day is given', () => {
    const now = utc(2024, 6, 15);
    assert.equal(lastRefillBoundary(monthly(), now), utc(2024, 6, 1));
    assert.equal(nextRefillAt(monthly(), now), utc(2024, 7, 1));
  });

  it('refills monthly on the given day, before and after it in the month', () => {
    assert.equal(lastRefillBoundary(monthly(15), utc(2024, 6, 10)), utc(2024, 5, 15));
    assert.equal(nextRefillAt(monthly(15), utc(2024, 6, 10)), utc(2024, 6, 15));
    assert.equal(lastRefillBoundary(monthly(15), utc(2024, 6, 15)), utc(2024, 6, 15));
    assert.equal(nextRefillAt(monthly(15), utc(2024, 6, 15)), utc(2024, 7, 15));
  });

  it('refills on the 30th in a 30-day month when the day is the 31st', () => {
    assert.equal(nextRefillAt(monthly(31), utc(2024, 3, 2)), utc(2024, 3, 30));
    assert.equal(lastRefillBoundary(monthly(31), utc(2024, 3, 30, 0, 0, 0, 1)), utc(2024, 3, 30));
    assert.equal(lastRefillBoundary(monthly(31), utc(2024, 4, 30)), utc(2024, 3, 30));
    assert.equal(lastRefillBoundary(monthly(31), utc(2024, 4, 31)), utc(2024, 4, 31));
  });

  it('refills on February 28th in a common year and the 29th in a leap year', () => {
    assert.equal(nextRefillAt(monthly(31), utc(2023, 1, 1)), utc(2023, 1, 28));
    assert.equal(nextRefillAt(monthly(30), utc(2024, 1, 1)), utc(2024, 1, 29));
    assert.equal(nextRefillAt(monthly(29), utc(2100, 1, 1)), utc(2100, 1, 28));
    assert.equal(nextRefillAt(monthly(29), utc(2000, 1, 1)), utc(2000, 1, 29));
    assert.equal(lastRefillBoundary(monthly(31), utc(2023, 2, 10)), utc(2023, 1, 28));
  });

  it('crosses years both ways', () => {
    assert.equal(nextRefillAt(monthly(5), utc(2024, 11, 20)), utc(2025, 0, 5));
    assert.equal(lastRefillBoundary(monthly(5), utc(2025, 0, 3)), utc(2024, 11, 5));
    assert.equal(nextRefillAt(daily, utc(2024, 11, 31, 23, 59, 59, 999)), utc(2025, 0, 1));
  });

  it('has no refill times for `never`', () => {
    const never: RefillSchedule = { interval: 'never', amount: 100 };
    assert.equal(lastRefillBoundary(never, utc(2024, 0, 1)), null);
    assert.equal(nextRefillAt(never, utc(2024, 0, 1)), null);
  });
});

describe('applyRefill', () => {
  const balance = (refilledAt?: number): CreditBalance => ({
    remaining: 3,
    refill: daily,
    ...(refilledAt === undefined ? {} : { refilledAt }),
  });

  it('resets remaining to the amount once a refill time has passed, not adding to it', () => {
    const now = utc(2024, 5, 11, 8);
    const refilled = applyRefill(balance(utc(2024, 5, 10, 17)), now);
    assert.deepEqual(refilled, { remaining: 100, refill: daily, refilledAt: now });
  });

  it('leaves the balance alone until the next refill time', () => {
    const credits = balance(utc(2024, 5, 10, 17));
    assert.equal(applyRefill(credits, utc(2024, 5, 10, 23, 59, 59, 999)), credits);
    assert.equal(applyRefill(credits, utc(2024, 5, 11)).remaining, 100);
  });

  it('refills once however many refill times have passed', () => {
    const refilled = applyRefill(balance(utc(2024, 0, 1, 12)), utc(2024, 5, 11));
    assert.equal(refilled.remaining, 100);
    assert.equal(applyRefill(refilled, utc(2024, 5, 11, 9)), refilled);
  });

  it('counts a never-refilled balance from the time the caller gives', () => {
    const credits = balance();
    assert.equal(applyRefill(credits, utc(2024, 5, 11, 9), utc(2024, 5, 11, 8)), credits);
    assert.equal(applyRefill(credits, utc(2024, 5, 11, 9), utc(2024, 5, 10, 8)).remaining, 100);
    assert.equal(applyRefill(credits, utc(2024, 5, 11, 9)), credits);
  });

  it('never refills a balance without a schedule, or with `never`', () => {
    const plain: CreditBalance = { remaining: 3 };
    assert.equal(applyRefill(plain, utc(2030, 0, 1), 0), plain);
    const never: CreditBalance = { remaining: 3, refill: { interval: 'never', amount: 9 } };
    assert.equal(applyRefill(never, utc(2030, 0, 1), 0), never);
  });

  it('refills a monthly balance set on the 31st on the last day of a shorter month', () => {
    const credits: CreditBalance = {
      remaining: 0,
      refill: monthly(31),
      refilledAt: utc(2023, 0, 31),
    };
    assert.equal(applyRefill(credits, utc(2023, 1, 27, 23)), credits);
    assert.equal(applyRefill(credits, utc(2023, 1, 28)).remaining, 100);
  });
});
