/** The tables of part (a), and whether keygate met its HTTP targets. */
import { count, ms, msDifference, ratio, table, verdict } from './format.ts';
import type { HttpBenchResult, TargetSamples } from './http-bench.ts';
import { failedRequests } from './http-load.ts';
import type { ServerProfile } from './http-profile.ts';
import { profileTables } from './profile-report.ts';
import { median, pairedDifferences, pairedRatios, range } from './stats.ts';

/** keygate must answer at least this share of the lean verifier's requests per second. */
export const THROUGHPUT_TARGET = 0.85;
/** keygate's p99 may exceed the lean verifier's by at most this much. */
export const P99_TARGET_MS = 2;
/** A key with two rate limits and credits must answer at least this share of a plain key's. */
export const LIMITS_THROUGHPUT_TARGET = 0.9;
/** keygate counting usage must answer at least this share of its requests with counting off. */
export const USAGE_THROUGHPUT_TARGET = 0.95;

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

/** The comparisons of part (a), by what they compare. */
export interface HttpComparisons {
  infoThroughput: Comparison;
  infoP99: Comparison;
  warnThroughput: Comparison;
  warnP99: Comparison;
  requestLogCost: Comparison;
  usageThroughput: Comparison;
  usageP99: Comparison;
  limitsThroughput: Comparison;
  limitsP99: Comparison;
  leanThroughput: Comparison;
  leanP99: Comparison;
  infoCpu: Comparison;
  batchedThroughput: Comparison;
  batchedP99: Comparison;
  batchedCpu: Comparison;
  leanBatching: Comparison;
}

/** The medians of one target's rounds. */
export interface TargetMedians {
  requestsPerSecond: number;
  p99Ms: number;
  /** Server CPU per answer, in microseconds, and the kernel's part of it. */
  serverCpuUs: number;
  serverSystemUs: number;
}

/** The figures of part (a) that the summary and the README block need. */
export interface HttpVerdict {
  comparisons: HttpComparisons;
  failedRequests: number;
  medians: Map<string, TargetMedians>;
}

/**
 * Compares keygate with the lean verifier round by round, usage counting on with off, a key
 * with limits and credits with a plain key, and lean with bare.
 */
export function judgeHttp(result: HttpBenchResult): HttpVerdict {
  const byName = new Map(result.targets.map((target) => [target.name, target]));
  const get = (name: string) => {
    const target = byName.get(name);
    if (!target) throw new Error(`part (a) has no samples of ${name}`);
    return target;
  };
  const [info, usageOff, warn, limits, lean, leanBatched, bare] = [
    get('keygate info'),
    get('keygate usage-off'),
    get('keygate warn'),
    get('keygate limits'),
    get('lean'),
    get('lean batched'),
    get('bare'),
  ];

  const comparisons: HttpComparisons = {
    infoThroughput: throughputComparison(
      'keygate info / lean, req/s',
      info,
      lean,
      THROUGHPUT_TARGET,
    ),
    infoP99: latencyComparison('keygate info − lean, p99', info, lean, P99_TARGET_MS),
    warnThroughput: throughputComparison(
      'keygate warn / lean, req/s',
      warn,
      lean,
      THROUGHPUT_TARGET,
    ),
    warnP99: latencyComparison('keygate warn − lean, p99', warn, lean, P99_TARGET_MS),
    requestLogCost: throughputComparison(
      'keygate info / keygate warn, req/s (request log)',
      info,
      warn,
    ),
    usageThroughput: throughputComparison(
      'keygate info / keygate usage-off, req/s (usage counting)',
      info,
      usageOff,
      USAGE_THROUGHPUT_TARGET,
    ),
    usageP99: latencyComparison('keygate info − keygate usage-off, p99', info, usageOff),
    limitsThroughput: throughputComparison(
      'keygate limits / keygate info, req/s',
      limits,
      info,
      LIMITS_THROUGHPUT_TARGET,
    ),
    limitsP99: latencyComparison('keygate limits − keygate info, p99', limits, info),
    leanThroughput: throughputComparison('lean / bare, req/s', lean, bare),
    leanP99: latencyComparison('lean − bare, p99', lean, bare),
    infoCpu: cpuComparison('keygate info / lean, server CPU per answer', info, lean),
    // keygate writes a turn's answers together; so can a lean verifier, and this is how far
    // keygate stays from one that does.
    batchedThroughput: throughputComparison(
      'keygate info / lean batched, req/s',
      info,
      leanBatched,
    ),
    batchedP99: latencyComparison('keygate info − lean batched, p99', info, leanBatched),
    batchedCpu: cpuComparison(
      'keygate info / lean batched, server CPU per answer',
      info,
      leanBatched,
    ),
    leanBatching: throughputComparison('lean batched / lean, req/s', leanBatched, lean),
  };
  const failed = result.targets.flatMap((target) => target.samples).map(failedRequests);
  const medians = new Map(result.targets.map((target) => [target.name, targetMedians(target)]));
  return { comparisons, failedRequests: failed.reduce((a, b) => a + b, 0), medians };
}

function targetMedians(target: TargetSamples): TargetMedians {
  const of = (field: keyof TargetMedians) => median(target.samples.map((sample) => sample[field]));
  return {
    requestsPerSecond: of('requestsPerSecond'),
    p99Ms: of('p99Ms'),
    serverCpuUs: of('serverCpuUs'),
    serverSystemUs: of('serverSystemUs'),
  };
}

function cpuComparison(what: string, a: TargetSamples, b: TargetSamples): Comparison {
  const cpu = (target: TargetSamples) => target.samples.map((sample) => sample.serverCpuUs);
  const ratios = pairedRatios(cpu(a), cpu(b));
  return { what, value: median(ratios), ...range(ratios), kind: 'ratio' };
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
  const judged =
    atLeast === undefined ? {} : { target: `≥ ${ratio(atLeast)}`, met: value >= atLeast };
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
  const judged =
    atMostMs === undefined ? {} : { target: `≤ +${ms(atMostMs)}`, met: value <= atMostMs };
  return { what, value, ...range(differences), kind: 'ms', ...judged };
}

/** The tables of part (a), and a warning when some requests got no valid answer. */
export function httpTables(result: HttpBenchResult, judged: HttpVerdict): string {
  const tables = [httpTargetTable(result), '', httpComparisonTable(judged)];
  if (judged.failedRequests > 0) {
    tables.push('', `!! ${count(judged.failedRequests)} requests got no valid answer:`);
    tables.push('!! the figures above measure errors and are not to be trusted');
  }
  return tables.join('\n');
}

/**
 * Where keygate's and the lean verifier's CPU goes per answer: the user-space CPU measured in
 * the rounds, split by each profile's shares once the socket writes are left out.
 */
export function serverProfileTables(
  profiles: { keygate: ServerProfile; lean: ServerProfile },
  judged: HttpVerdict,
): string {
  return [
    'Where the server CPU goes: one more profiled run of each, in a fresh process. The user-',
    'space CPU per answer measured in the rounds is split by profile share. Samples in socket',
    'writes are left out: they are kernel time (measured as system CPU) and time spent waiting',
    'for the CPU after waking the client.',
    '',
    serverProfileTable(
      'keygate (info)',
      profiles.keygate,
      judged.medians.get('keygate info'),
      true,
    ),
    '',
    serverProfileTable('lean verifier', profiles.lean, judged.medians.get('lean'), false),
  ].join('\n');
}

function serverProfileTable(
  name: string,
  profiled: ServerProfile,
  medians: TargetMedians | undefined,
  detailed: boolean,
): string {
  const cpuUs = medians?.serverCpuUs ?? Number.NaN;
  const systemUs = medians?.serverSystemUs ?? Number.NaN;
  const userUs = cpuUs - systemUs;
  const { totalMs, leftOutMs } = profiled.summary;
  const writes = `${((100 * leftOutMs) / (totalMs + leftOutMs)).toFixed(0)}% of samples`;
  return [
    `${name}: ${count(cpuUs)} µs CPU per answer = ${count(systemUs)} µs in the kernel`,
    `+ ${count(userUs)} µs in user space, split here (socket writes left out: ${writes}):`,
    profileTables(profiled.summary, userUs, 'answer', { stagesOnly: !detailed }),
  ].join('\n');
}

function httpTargetTable(result: HttpBenchResult): string {
  const rows = result.targets.map((target) => {
    const samples = target.samples;
    const failed = samples.map(failedRequests).reduce((a, b) => a + b, 0);
    return [
      target.name,
      count(median(samples.map((sample) => sample.requestsPerSecond))),
      ms(median(samples.map((sample) => sample.p50Ms))),
      ms(median(samples.map((sample) => sample.p99Ms))),
      count(median(samples.map((sample) => sample.serverCpuUs))),
      count(median(samples.map((sample) => sample.serverSystemUs))),
      count(samples.reduce((sum, sample) => sum + sample.answers, 0)),
      count(failed),
      target.description,
    ];
  });
  const header = ['target', 'req/s', 'p50', 'p99', 'CPU µs/answer', 'in kernel', 'answers'];
  return table([...header, 'failed', 'what it is'], rows);
}

/** The comparison table of part (a), with PASS or MISS against each target. */
function httpComparisonTable(judged: HttpVerdict): string {
  const rows = Object.values(judged.comparisons).map((comparison) => {
    const show = comparison.kind === 'ratio' ? ratio : msDifference;
    return [
      comparison.what,
      show(comparison.value),
      `${show(comparison.min)} … ${show(comparison.max)}`,
      comparison.target ?? '',
      comparison.met === undefined ? '' : verdict(comparison.met),
    ];
  });
  return table(
    ['comparison (median of paired rounds)', 'value', 'rounds range', 'target', ''],
    rows,
  );
}
