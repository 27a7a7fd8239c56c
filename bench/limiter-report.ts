/** The tables of part (d), and whether keygate's limiter kept up with RateLimiterMemory. */
import { count, ratio, table, verdict } from './format.ts';
import type { LimiterBenchResult } from './limiter-bench.ts';
import { median, range } from './stats.ts';

/** keygate's in-memory limiter must count at least as fast as RateLimiterMemory. */
export const LIMITER_TARGET = 1.0;

/** The figures of part (d) that the summary and the README block need. */
export interface LimiterVerdict {
  keygateOpsPerSecond: number;
  rateLimiterMemoryOpsPerSecond: number;
  /** The median of the paired ratios, keygate / RateLimiterMemory. */
  ratio: number;
  met: boolean;
}

/** Medians of each side, and the median of the paired ratios against the target. */
export function judgeLimiter(result: LimiterBenchResult): LimiterVerdict {
  const value = median(result.ratios);
  return {
    keygateOpsPerSecond: median(result.keygateOpsPerSecond),
    rateLimiterMemoryOpsPerSecond: median(result.rateLimiterMemoryOpsPerSecond),
    ratio: value,
    met: value >= LIMITER_TARGET,
  };
}

/** The ops/s table and the comparison with its verdict. */
export function limiterTables(result: LimiterBenchResult, judged: LimiterVerdict): string {
  const spread = range(result.ratios);
  const rates = table(
    ['limiter, one limit per call (median of batches)', 'ops/s'],
    [
      ['keygate MemoryCounters.consume', count(judged.keygateOpsPerSecond)],
      [
        'rate-limiter-flexible RateLimiterMemory.consume',
        count(judged.rateLimiterMemoryOpsPerSecond),
      ],
    ],
  );
  const comparison = table(
    ['comparison (median of paired batches)', 'value', 'batches range', 'target', ''],
    [
      [
        'keygate / RateLimiterMemory, ops/s',
        ratio(judged.ratio),
        `${ratio(spread.min)} … ${ratio(spread.max)}`,
        `≥ ${ratio(LIMITER_TARGET)}`,
        verdict(judged.met),
      ],
    ],
  );
  const { keys, batch } = result.options;
  const batches = `${result.ratios.length} pairs of batches of ${count(batch)} calls`;
  return [rates, '', comparison, `(${batches} over ${count(keys)} keys)`].join('\n');
}
