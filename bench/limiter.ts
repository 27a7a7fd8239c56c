/**
 * The in-memory limiter against rate-limiter-flexible's RateLimiterMemory: one limit per call,
 * spread over 10,000 keys, both on their allowing path. Run alone with
 * `node --import tsx bench/limiter.ts`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { LimitConfig } from '../src/core/limits/types.ts';
import { MemoryCounters } from '../src/counters/memory/memory-counters.ts';
import type { LimitRequest } from '../src/counters/types.ts';
import { median } from './stats.ts';

/** Operations per second of each limiter; `rateLimiterMemory` is null when it is not installed. */
export interface LimiterBenchResult {
  keygate: number;
  rateLimiterMemory: number | null;
  /** keygate / RateLimiterMemory, the median of rounds run side by side. */
  ratio: number | null;
}

/** How much to run: 10,000 keys, 7 rounds of 200,000 calls each by default. */
export interface LimiterBenchOptions {
  keys: number;
  /** Calls per timed batch. */
  batch: number;
  /** Batches of each limiter, run in turn. */
  rounds: number;
}

/** Runs `count` calls, round-robin over the keys; answers how many were denied. */
type Batch = (count: number) => Promise<number>;

// High enough that no call is denied: rate-limiter-flexible's denials reject a promise, which
// would measure its error path rather than its counting.
const LIMIT = 1_000_000_000;
const DURATION_MS = 60_000;

/** Times `consume` on our memory counters and on RateLimiterMemory, alternating batches. */
export async function benchLimiter(
  options: LimiterBenchOptions = { keys: 10_000, batch: 200_000, rounds: 7 },
): Promise<LimiterBenchResult> {
  const keys = Array.from({ length: options.keys }, (_, index) => `ws_1:key_${index}:requests`);
  const ours = keygateBatch(keys);
  const theirs = await rateLimiterMemoryBatch(keys);

  const oursRates: number[] = [];
  const theirRates: number[] = [];
  await timeBatch(ours, options.batch);
  if (theirs) await timeBatch(theirs, options.batch);
  for (let round = 0; round < options.rounds; round += 1) {
    oursRates.push(await timeBatch(ours, options.batch));
    if (theirs) theirRates.push(await timeBatch(theirs, options.batch));
  }

  const keygate = median(oursRates);
  if (!theirs) return { keygate, rateLimiterMemory: null, ratio: null };
  const ratios = oursRates.map((rate, index) => rate / (theirRates[index] ?? Number.NaN));
  return { keygate, rateLimiterMemory: median(theirRates), ratio: median(ratios) };
}

function keygateBatch(keys: readonly string[]): Batch {
  const counters = new MemoryCounters();
  const config: LimitConfig = { limit: LIMIT, duration: DURATION_MS };
  return async (count) => {
    let denied = 0;
    for (let index = 0; index < count; index += 1) {
      const key = keys[index % keys.length] ?? '';
      const limit: LimitRequest = { key, name: 'requests', config, cost: 1, shadow: false };
      const result = await counters.consume({ limits: [limit], now: Date.now() });
      if (!result.allowed) denied += 1;
    }
    return denied;
  };
}

/** RateLimiterMemory's consume, or null when rate-limiter-flexible is not installed. */
async function rateLimiterMemoryBatch(keys: readonly string[]): Promise<Batch | null> {
  const module = await import('rate-limiter-flexible').catch(() => null);
  if (module === null) return null;

  const limiter = new module.RateLimiterMemory({ points: LIMIT, duration: DURATION_MS / 1000 });
  return async (count) => {
    // A denial rejects, which would end the batch: the limit is set so that none happens.
    for (let index = 0; index < count; index += 1) {
      await limiter.consume(keys[index % keys.length] ?? '', 1);
    }
    return 0;
  };
}

/** Calls per second over one batch of `count` calls. */
async function timeBatch(batch: Batch, count: number): Promise<number> {
  const started = performance.now();
  const denied = await batch(count);
  const seconds = (performance.now() - started) / 1000;
  if (denied > 0) throw new Error(`the limiter bench expected no denials, saw ${denied}`);
  return count / seconds;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { keygate, rateLimiterMemory, ratio } = await benchLimiter();
  const format = (rate: number) => `${Math.round(rate).toLocaleString('en')} ops/s`;
  console.log(`keygate MemoryCounters.consume: ${format(keygate)}`);
  if (rateLimiterMemory === null) console.log('RateLimiterMemory: not installed');
  else console.log(`RateLimiterMemory.consume:      ${format(rateLimiterMemory)}`);
  if (ratio !== null)
    console.log(`ratio (keygate / RateLimiterMemory, median of rounds): ${ratio.toFixed(2)}×`);
}
