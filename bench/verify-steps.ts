/**
 * What each step of a cached verification costs on its own, timed through the functions
 * `VerifyService.verify` calls, to account for the gap between a verification and its hash.
 */
import { performance } from 'node:perf_hooks';
import { hashKey } from '../src/core/hashing.ts';
import { parseKey } from '../src/core/key-format.ts';
import { holdsPermission } from '../src/core/permissions.ts';
import { DEFAULT_CACHE_OPTIONS } from '../src/services/keygate.ts';
import { RecordCache } from '../src/services/record-cache.ts';
import type { KeyRecord } from '../src/store/types.ts';
import type { BenchKeygate } from './keygate-fixture.ts';
import { median } from './stats.ts';

/** One step and its cost in nanoseconds per call (median of several timings). */
export interface StepCost {
  step: string;
  ns: number;
}

const CALLS = 50_000;
const ROUNDS = 7;

/** A step as timed: its name and the work of one call. */
interface Step {
  step: string;
  call: () => unknown;
}

/**
 * Times each step of verifying `key` (whose record is `record`), and the whole verification,
 * in interleaved rounds so that a slow moment of the machine touches every step alike.
 */
export async function timeVerifySteps(
  fixture: BenchKeygate,
  key: string,
  record: KeyRecord,
): Promise<{ steps: StepCost[]; wholeNs: number }> {
  const { actor, pepper } = fixture;
  const cache = new RecordCache<KeyRecord>(DEFAULT_CACHE_OPTIONS);
  cache.set(record.hash, record);
  const returnRecord = async () => record;
  const permission = `api.${record.apiId}.verify_key`;
  const request = { key };
  const steps: Step[] = [
    { step: 'hashKey: HMAC-SHA256 of the key', call: () => hashKey(pepper, key) },
    { step: 'parseKey: pattern and CRC-32 checksum', call: () => parseKey(key) },
    {
      step: 'holdsPermission: api.<id>.verify_key',
      call: () => holdsPermission(actor.permissions, permission),
    },
    { step: 'RecordCache.get (LRU with TTL)', call: () => cache.get(record.hash) },
    { step: 'two nested async calls, awaited', call: async () => await returnRecord() },
    { step: 'whole verify, cached', call: () => fixture.keygate.verifier.verify(actor, request) },
  ];

  const timings = steps.map(() => [] as number[]);
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [index, step] of steps.entries()) {
      const ns = await nsPerCall(step.call);
      if (round > 0) timings[index]?.push(ns);
    }
  }
  const costs = steps.map((step, index) => ({ step: step.step, ns: median(timings[index] ?? []) }));
  const whole = costs.pop();
  return { steps: costs, wholeNs: whole?.ns ?? Number.NaN };
}

/** Nanoseconds per call of `work`, awaited when it answers a promise. */
async function nsPerCall(work: () => unknown): Promise<number> {
  const started = performance.now();
  for (let call = 0; call < CALLS; call++) {
    const answer = work();
    if (answer instanceof Promise) await answer;
  }
  return ((performance.now() - started) * 1e6) / CALLS;
}
