/**
 * Part (d): the in-memory limiter against rate-limiter-flexible's RateLimiterMemory, one limit
 * per call, spread over many keys, both on their allowing path. Run alone with
 * `node --import tsx bench/limiter-bench.ts [--quick]`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { LimitConfig } from '../src/core/limits/types.ts';
import { MemoryCounters } from '../src/counters/memory/memory-counters.ts';
import type { LimitRequest } from '../src/counters/types.ts';
import { judgeLimiter, limiterTables } from './limiter-report.ts';
import { type BenchOptions, parseBenchOptions } from './options.ts';
import { pairedRatios } from './stats.ts';

/** Calls per second of each timed batch, in the order they ran; batch `i` of each is a pair. */
export interface LimiterBenchResult {
  keygateOpsPerSecond: number[];
  rateLimiterMemoryOpsPerSecond: number[];
  /** keygate / RateLimiterMemory, pair by pair. */
  ratios: number[];
  options: BenchOptions['limiter'];
}

/** Runs `count` calls, round-robin over the keys; answers how many were denied. */
type Batch = (count: number) => Promise<number>;

// High enough that no call is denied: rate-limiter-flexible's denials reject a promise, which
// would measure its error path rather than its counting.
const LIMIT = 1_000_000_000;
const DURATION_MS = 60_000;

/** Times `consume` on our memory counters and on RateLimiterMemory, alternating batches. */
export async function benchLimiter(options: BenchOptions['limiter']): Promise<LimiterBenchResult> {
  const keys = Array.from({ length: options.keys }, (_, index) => `ws_1:key_${index}:requests`);
  const ours = keygateBatch(keys);
  const theirs = rateLimiterMemoryBatch(keys);

  const keygateOpsPerSecond: number[] = [];
  const rateLimiterMemoryOpsPerSecond: number[] = [];
  await timeBatch(ours, options.batch);
  await timeBatch(theirs, options.batch);
  for (let round = 0; round < options.rounds; round += 1) {
    keygateOpsPerSecond.push(await timeBatch(ours, options.batch));
    rateLimiterMemoryOpsPerSecond.push(await timeBatch(theirs, options.batch));
  }

  const ratios = pairedRatios(keygateOpsPerSecond, rateLimiterMemoryOpsPerSecond);
  return { keygateOpsPerSecond, rateLimiterMemoryOpsPerSecond, ratios, options };
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

function rateLimiterMemoryBatch(keys: readonly string[]): Batch {
  const limiter = new RateLimiterMemory({ points: LIMIT, duration: DURATION_MS / 1000 });
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
  const result = await benchLimiter(parseBenchOptions(process.argv.slice(2)).limiter);
  console.log(limiterTables(result, judgeLimiter(result)));
}
