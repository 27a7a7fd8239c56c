/** The table of part (c), and whether memory stayed bounded. */
import { count, mib, mibDifference, table, verdict } from './format.ts';
import type { MemoryBenchResult } from './memory-bench.ts';
import type { MemoryCheckpoint } from './memory-measure.ts';

/** Resident memory levels off when the last interval grows it by at most this share. */
export const RSS_LEVEL_OFF = 0.02;

/** The figures of part (c) that the summary and the README block need. */
export interface MemoryVerdict {
  bound: number;
  largestCacheSize: number;
  cacheBounded: boolean;
  /** RSS growth over the last checkpoint interval, as a share of RSS. */
  lastGrowth: number;
  rssLevelsOff: boolean;
  /** Live heap per cached key while the cache fills, in bytes. */
  heapPerCachedKey: number;
  few: MemoryCheckpoint;
  many: MemoryCheckpoint;
}

/** Checks the cache's bound and whether RSS stopped growing once the cache was full. */
export function judgeMemory(result: MemoryBenchResult): MemoryVerdict {
  const points = result.checkpoints;
  const bound = result.options.cacheMaxEntries;
  const few = points[1] ?? points[0];
  const many = points.at(-1);
  const beforeLast = points.at(-2);
  const full = points.find((point) => point.verified >= bound) ?? many;
  if (!few || !many || !beforeLast || !full) throw new Error('part (c) lost its checkpoints');

  const largestCacheSize = Math.max(...points.map((point) => point.largestCacheSize));
  const lastGrowth = (many.rssBytes - beforeLast.rssBytes) / beforeLast.rssBytes;
  const cachedKeys = Math.min(full.verified, bound) - Math.min(few.verified, bound);
  return {
    bound,
    largestCacheSize,
    cacheBounded: largestCacheSize <= bound,
    lastGrowth,
    rssLevelsOff: lastGrowth <= RSS_LEVEL_OFF,
    heapPerCachedKey: (full.heapUsedBytes - few.heapUsedBytes) / cachedKeys,
    few,
    many,
  };
}

/** One row per checkpoint, then the verdicts. */
export function memoryTables(result: MemoryBenchResult, judged: MemoryVerdict): string {
  const rows = result.checkpoints.map((point) => [
    point.verified === 0 ? '0 (store open, keys loaded)' : count(point.verified),
    mib(point.rssBytes),
    point.verified === 0 ? '' : mibDifference(point.rssBytes - judged.few.rssBytes),
    mib(point.heapUsedBytes),
    count(point.cacheSize),
    count(point.largestCacheSize),
  ]);
  const checkpoints = table(
    [
      'distinct keys verified',
      'RSS',
      `RSS − at ${count(judged.few.verified)}`,
      'heap used',
      'cache entries',
      'largest seen',
    ],
    rows,
  );

  const beforeLast = result.checkpoints.at(-2)?.verified ?? 0;
  const verdicts = table(
    ['check', 'value', 'target', ''],
    [
      [
        'largest cache size seen',
        count(judged.largestCacheSize),
        `≤ ${count(judged.bound)} (bound)`,
        verdict(judged.cacheBounded),
      ],
      [
        `RSS growth, ${count(beforeLast)} → ${count(judged.many.verified)} keys`,
        `${(100 * judged.lastGrowth).toFixed(1)}%`,
        `≤ ${100 * RSS_LEVEL_OFF}% (levels off)`,
        verdict(judged.rssLevelsOff),
      ],
      ['live heap per cached key', `${count(judged.heapPerCachedKey)} B`, '', ''],
    ],
  );
  return [checkpoints, '', verdicts].join('\n');
}
