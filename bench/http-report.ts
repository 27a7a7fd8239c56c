/** The tables of part (a), and whether keygate met its HTTP targets. */
import { count, ms, msDifference, ratio, table, verdict } from './format.ts';
import type { HttpBenchResult, TargetSamples } from './http-bench.ts';
import { failedRequests } from './http-load.ts';
import { median, pairedDifferences, pairedRatios, range } from './stats.ts';

/** keygate must answer at least this share of the lean verifier's requests per second. */
export const THROUGHPUT_TARGET = 0.85;
/** keygate's p99 may exceed the lean verifier's by at most this much. */
export const P99_TARGET_MS = 2;

/** One line of the comparison table. */
export interface Comparison {
  what: string;
  /** The median of the per-round values. */
  value: number;
  min: number;
  max: number;
  kind: 'ratio' | 'ms';
  target?: string;
  met?: boolean;
}

/** The figures of part (a) that the summary and the README block need. */
export interface HttpVerdict {
  comparisons: Comparison[];
  failedRequests: number;
  medians: Map<string, { requestsPerSecond: number; p99Ms: number }>;
}

/** Compares keygate with the lean verifier round by round, and lean with bare. */
export function judgeHttp(result: HttpBenchResult): HttpVerdict {
  const byName = new Map(result.targets.map((target) => [target.name, target]));
  const get = (name: string) => byName.get(name) ?? { name, description: '', samples: [] };
  const [info, warn, lean, bare] = ['keygate info', 'keygate warn', 'lean', 'bare'].map(get);
  if (!info || !warn || !lean || !bare) throw new Error('part (a) lost a target');

  const comparisons = [
    throughputComparison('keygate info / lean, req/s', info, lean, THROUGHPUT_TARGET),
    latencyComparison('keygate info − lean, p99', info, lean, P99_TARGET_MS),
    throughputComparison('keygate warn / lean, req/s', warn, lean, THROUGHPUT_TARGET),
    latencyComparison('keygate warn − lean, p99', warn, lean, P99_TARGET_MS),
    throughputComparison('keygate info / keygate warn (request log)', info, warn),
    throughputComparison('lean / bare, req/s', lean, bare),
    latencyComparison('lean − bare, p99', lean, bare),
  ];
  const failed = result.targets.flatMap((target) => target.samples).map(failedRequests);
  const medians = new Map(result.targets.map((target) => [target.name, targetMedians(target)]));
  return { comparisons, failedRequests: failed.reduce((a, b) => a + b, 0), medians };
}

function targetMedians(target: TargetSamples) {
  return {
    requestsPerSecond: median(target.samples.map((sample) => sample.requestsPerSecond)),
    p99Ms: median(target.samples.map((sample) => sample.p99Ms)),
  };
}

function throughputComparison(
  what: string,
  a: TargetSamples,
  b: TargetSamples,
  atLeast?: number,
): Comparison {
  const rps = (target: TargetSamples) => target.samples.map((sample) => sample.requestsPerSecond);
  const ratios = pairedRatios(rps(a), rps(b));
  const value = median(ratios);
  const judged = atLeast === undefined ? {} : { target: `≥ ${ratio(atLeast)}`, met: value >= atLeast };
  return { what, value, ...range(ratios), kind: 'ratio', ...judged };
}

function latencyComparison(
  what: string,
  a: TargetSamples,
  b: TargetSamples,
  atMostMs?: number,
): Comparison {
  const p99 = (target: TargetSamples) => target.samples.map((sample) => sample.p99Ms);
  const differences = pairedDifferences(p99(a), p99(b));
  const value = median(differences);
  const judged = atMostMs === undefined ? {} : { target: `≤ +${ms(atMostMs)}`, met: value <= atMostMs };
  return { what, value, ...range(differences), kind: 'ms', ...judged };
}

/** The per-target table of part (a). */
export function httpTargetTable(result: HttpBenchResult): string {
  const rows = result.targets.map((target) => {
    const samples = target.samples;
    const failed = samples.map(failedRequests).reduce((a, b) => a + b, 0);
    return [
      target.name,
      count(median(samples.map((sample) => sample.requestsPerSecond))),
      ms(median(samples.map((sample) => sample.p50Ms))),
      ms(median(samples.map((sample) => sample.p99Ms))),
      count(samples.reduce((sum, sample) => sum + sample.answers, 0)),
      count(failed),
      target.description,
    ];
  });
  return table(['target', 'req/s', 'p50', 'p99', 'answers', 'failed', 'what it is'], rows);
}

/** The comparison table of part (a), with PASS or MISS against each target. */
export function httpComparisonTable(judged: HttpVerdict): string {
  const rows = judged.comparisons.map((comparison) => {
    const show = comparison.kind === 'ratio' ? ratio : msDifference;
    return [
      comparison.what,
      show(comparison.value),
      `${show(comparison.min)} … ${show(comparison.max)}`,
      comparison.target ?? '',
      comparison.met === undefined ? '' : verdict(comparison.met),
    ];
  });
  return table(['comparison (median of paired rounds)', 'value', 'rounds range', 'target', ''], rows);
}
