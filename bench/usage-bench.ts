/**
 * Part (e): a 30-day hourly usage query over a store holding many recorded verifications,
 * against the same query over a store holding few, both real SQLite stores in this process.
 * Run alone with `node --import tsx bench/usage-bench.ts [--quick]`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { USAGE_CODES, type UsageFilter, type UsageSeries } from '../src/services/usage.ts';
import { BUCKET_MS } from '../src/services/usage-recorder.ts';
import type { UsageGranularity } from '../src/store/types.ts';
import { count } from './format.ts';
import { type BenchOptions, parseBenchOptions } from './options.ts';
import { pairedRatios } from './stats.ts';
import { judgeUsage, usageTables } from './usage-report.ts';
import {
  type QueriedSeries,
  RECORDED_SPAN_MS,
  RECORDED_UNTIL,
  seedUsageStore,
  type UsageStore,
} from './usage-seed.ts';

/** The series queried, in the order the tables show them; the workspace's is the one judged. */
export const QUERIED_SERIES: readonly QueriedSeries[] = ['workspace', 'api', 'key'];

/** How one store was filled. */
export interface StoreFigures {
  verifications: number;
  keys: number;
  keysSeconds: number;
  recordSeconds: number;
  usageRows: Record<UsageGranularity, number>;
}

/** The timed runs of one series' query on both stores; run `i` of each is a pair. */
export interface QueryTimes {
  series: QueriedSeries;
  /** Buckets in the answer. */
  buckets: number;
  /** Counts in the answer that are not zero: the rows the store read, in each store. */
  rows: { few: number; many: number };
  fewMs: number[];
  manyMs: number[];
  /** many / few, run by run. */
  ratios: number[];
}

/** Both stores and every query's times. */
export interface UsageBenchResult {
  few: StoreFigures;
  many: StoreFigures;
  queries: QueryTimes[];
  options: BenchOptions['usage'];
}

/** One query's time and what its answer held. */
interface QueryRun {
  ms: number;
  buckets: number;
  rows: number;
}

/** One series' runs on each store; run `i` of each is a pair. */
interface PairedRuns {
  series: QueriedSeries;
  few: QueryRun[];
  many: QueryRun[];
}

/** Fills a store of each size, times the queries on the two in turn, and closes them. */
export async function runUsageBench(
  options: BenchOptions['usage'],
  progress: (line: string) => void,
): Promise<UsageBenchResult> {
  const stores: UsageStore[] = [];
  try {
    for (const verifications of [options.fewVerifications, options.manyVerifications]) {
      const store = await seedUsageStore(verifications, options.keys);
      stores.push(store);
      progress(describeSeeding(store));
    }
    const [few, many] = stores;
    if (!few || !many) throw new Error('part (e) filled fewer than two stores');

    const queries = await timeQueries(few, many, options);
    return { few: figuresOf(few), many: figuresOf(many), queries, options };
  } finally {
    await Promise.allSettled(stores.map((store) => store.close()));
  }
}

/** Warm-up runs of every query, then timed runs in which the two stores take turns first. */
async function timeQueries(
  few: UsageStore,
  many: UsageStore,
  options: BenchOptions['usage'],
): Promise<QueryTimes[]> {
  for (let run = 0; run < options.warmupRuns; run += 1) {
    for (const series of QUERIED_SERIES) {
      await runQuery(few, series);
      await runQuery(many, series);
    }
  }

  const paired = QUERIED_SERIES.map((series): PairedRuns => ({ series, few: [], many: [] }));
  for (let run = 0; run < options.runs; run += 1) {
    for (const runs of paired) {
      if (run % 2 === 0) {
        runs.few.push(await runQuery(few, runs.series));
        runs.many.push(await runQuery(many, runs.series));
      } else {
        runs.many.push(await runQuery(many, runs.series));
        runs.few.push(await runQuery(few, runs.series));
      }
    }
  }
  return paired.map(queryTimes);
}

function queryTimes(runs: PairedRuns): QueryTimes {
  const fewMs = runs.few.map((run) => run.ms);
  const manyMs = runs.many.map((run) => run.ms);
  return {
    series: runs.series,
    buckets: runs.few[0]?.buckets ?? 0,
    rows: { few: runs.few[0]?.rows ?? 0, many: runs.many[0]?.rows ?? 0 },
    fewMs,
    manyMs,
    ratios: pairedRatios(manyMs, fewMs),
  };
}

/** Times one 30-day hourly query; throws unless it answers what was recorded. */
async function runQuery(store: UsageStore, series: QueriedSeries): Promise<QueryRun> {
  const { keygate, actor } = store.fixture;
  const filter: UsageFilter = {
    ...seriesFilter(store, series),
    granularity: 'hour',
    from: RECORDED_UNTIL - RECORDED_SPAN_MS,
    to: RECORDED_UNTIL,
  };

  const started = performance.now();
  const answer = await keygate.usage.series(actor, filter);
  const ms = performance.now() - started;

  expectRecorded(store, series, answer);
  const rows = answer.series.reduce(
    (sum, point) => sum + Object.values(point.counts).filter((value) => value > 0).length,
    0,
  );
  return { ms, buckets: answer.series.length, rows };
}

function seriesFilter(store: UsageStore, series: QueriedSeries): UsageFilter {
  if (series === 'api') return { apiId: store.fixture.apiId };
  if (series === 'key') return { keyId: store.keyId };
  return {};
}

/** Throws unless the answer covers the month hour by hour and totals what was recorded. */
function expectRecorded(store: UsageStore, series: QueriedSeries, answer: UsageSeries): void {
  const what = `the ${series} query over ${count(store.verifications)} verifications`;
  const hours = RECORDED_SPAN_MS / BUCKET_MS.hour;
  const buckets = answer.series.length;
  if (buckets !== hours && buckets !== hours + 1) {
    throw new Error(`${what} answered ${buckets} buckets, not ${hours} or ${hours + 1}`);
  }

  const recorded = store.recorded[series];
  const wrong = USAGE_CODES.filter((code) => answer.totals[code] !== recorded[code]);
  if (wrong.length > 0) {
    const seen = wrong.map((code) => `${code} ${answer.totals[code]} of ${recorded[code]}`);
    throw new Error(`${what} does not total what was recorded: ${seen.join(', ')}`);
  }
}

function figuresOf(store: UsageStore): StoreFigures {
  const { verifications, keys, keysSeconds, recordSeconds, usageRows } = store;
  return { verifications, keys, keysSeconds, recordSeconds, usageRows };
}

function describeSeeding(store: UsageStore): string {
  const rows = Object.values(store.usageRows).reduce((sum, rows) => sum + rows, 0);
  const recorded = `recorded ${count(store.verifications)} verifications`;
  const keys = `${count(store.keys)} keys made in ${store.keysSeconds.toFixed(1)} s`;
  return `  ${keys}; ${recorded} in ${store.recordSeconds.toFixed(1)} s: ${count(rows)} usage rows`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const say = (line: string) => console.log(line);
  const result = await runUsageBench(parseBenchOptions(process.argv.slice(2)).usage, say);
  console.log(usageTables(result, judgeUsage(result)));
}
