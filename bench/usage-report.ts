/** The tables of part (e), and whether the usage query kept its time as the counts grew. */
import { count, ms, ratio, table, verdict } from './format.ts';
import { median, range } from './stats.ts';
import type { StoreFigures, UsageBenchResult } from './usage-bench.ts';
import type { QueriedSeries } from './usage-seed.ts';

/**
 * Over many recorded verifications, the workspace's 30-day hourly query may take at most this
 * many times as long as over few.
 */
export const USAGE_QUERY_TARGET = 2;

const SERIES_NAMES: Record<QueriedSeries, string> = {
  workspace: 'workspace-wide (judged)',
  api: 'one API',
  key: 'one key',
};

/** The figures of part (e) that the summary and the README block need: the workspace query's. */
export interface UsageVerdict {
  fewVerifications: number;
  manyVerifications: number;
  fewMs: number;
  manyMs: number;
  /** The median of the paired ratios, many / few. */
  ratio: number;
  met: boolean;
}

/** Judges the workspace-wide query: the median of its paired ratios against the target. */
export function judgeUsage(result: UsageBenchResult): UsageVerdict {
  const workspace = result.queries.find((query) => query.series === 'workspace');
  if (!workspace) throw new Error('part (e) has no times of the workspace query');

  const value = median(workspace.ratios);
  return {
    fewVerifications: result.few.verifications,
    manyVerifications: result.many.verifications,
    fewMs: median(workspace.fewMs),
    manyMs: median(workspace.manyMs),
    ratio: value,
    met: value <= USAGE_QUERY_TARGET,
  };
}

/** How each store was filled, each query's times, and the comparisons with their verdict. */
export function usageTables(result: UsageBenchResult, judged: UsageVerdict): string {
  const runs = count(result.options.runs);
  const warmupRuns = count(result.options.warmupRuns);
  const note = [
    `(${runs} timed runs of each query on each store, after ${warmupRuns} warm-up runs.`,
    "Rows read are the answer's counts that are not zero. Both stores keep the minute buckets",
    'of the whole month, which a server prunes after 7 days: it would hold fewer rows.)',
  ];
  return [
    storeTable(result),
    '',
    queryTable(result),
    '',
    comparisonTable(result, judged),
    ...note,
  ].join('\n');
}

function storeTable(result: UsageBenchResult): string {
  const row = (store: StoreFigures) => {
    const { verifications, keysSeconds, recordSeconds, usageRows } = store;
    const rows = usageRows.minute + usageRows.hour + usageRows.day;
    return [
      `${count(verifications)} verifications`,
      count(store.keys),
      `${keysSeconds.toFixed(1)} s`,
      `${recordSeconds.toFixed(1)} s`,
      count(verifications / recordSeconds),
      count(rows),
      count(usageRows.hour),
    ];
  };
  const header = ['store', 'keys', 'keys made in', 'recorded and written in', 'verifications/s'];
  return table([...header, 'usage rows', 'hourly'], [row(result.few), row(result.many)]);
}

function queryTable(result: UsageBenchResult): string {
  const few = `${count(result.few.verifications)} recorded`;
  const many = `${count(result.many.verifications)} recorded`;
  const rows = result.queries.map((query) => [
    SERIES_NAMES[query.series],
    count(query.buckets),
    `${count(query.rows.few)} / ${count(query.rows.many)}`,
    ms(median(query.fewMs)),
    ms(median(query.manyMs)),
  ]);
  const header = ['30-day hourly query (median of runs)', 'buckets', 'rows read, few / many'];
  return table([...header, few, many], rows);
}

function comparisonTable(result: UsageBenchResult, judged: UsageVerdict): string {
  const sizes = `${count(result.many.verifications)} / ${count(result.few.verifications)}`;
  const rows = result.queries.map((query) => {
    const spread = range(query.ratios);
    const judgedHere = query.series === 'workspace';
    return [
      `${SERIES_NAMES[query.series]}, ${sizes} verifications, time`,
      ratio(median(query.ratios)),
      `${ratio(spread.min)} … ${ratio(spread.max)}`,
      judgedHere ? `≤ ${ratio(USAGE_QUERY_TARGET)}` : '',
      judgedHere ? verdict(judged.met) : '',
    ];
  });
  return table(['comparison (median of paired runs)', 'value', 'runs range', 'target', ''], rows);
}
