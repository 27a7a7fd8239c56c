/** The markdown block for the README: the headline figures of one run, and the command. */
import os from 'node:os';
import { count, ms, msDifference, ratio, verdict } from './format.ts';
import type { HttpVerdict } from './http-report.ts';
import {
  LIMITS_THROUGHPUT_TARGET,
  P99_TARGET_MS,
  THROUGHPUT_TARGET,
  USAGE_THROUGHPUT_TARGET,
} from './http-report.ts';
import { LIMITER_TARGET, type LimiterVerdict } from './limiter-report.ts';
import type { MemoryVerdict } from './memory-report.ts';
import type { BenchOptions } from './options.ts';
import { USAGE_QUERY_TARGET, type UsageVerdict } from './usage-report.ts';
import { VERIFY_TARGET } from './verify-bench.ts';
import type { VerifyVerdict } from './verify-report.ts';

/** What the parts that ran concluded; a part that did not run is absent. */
export interface BenchVerdicts {
  http?: HttpVerdict;
  verify?: VerifyVerdict;
  memory?: MemoryVerdict;
  limiter?: LimiterVerdict;
  usage?: UsageVerdict;
}

/** A markdown section with a table of the figures, ready to paste into the README. */
export function readmeBlock(options: BenchOptions, verdicts: BenchVerdicts): string {
  const rows = [
    ...httpRows(verdicts.http),
    ...verifyRows(verdicts.verify),
    ...memoryRows(verdicts.memory),
    ...limiterRows(verdicts.limiter),
    ...usageRows(verdicts.usage),
  ];
  const day = new Date().toISOString().slice(0, 10);
  const machine = `Node ${process.version}, ${os.cpus().length} CPU cores, ${day}`;
  const command = `npm run bench${options.quick ? ' -- --quick' : ''}`;
  return [
    '### Performance',
    '',
    `Measured by \`${command}\` (${machine}). Every figure is`,
    'compared with a baseline measured in the same run, because absolute numbers on a shared',
    'machine mean little. HTTP figures are medians of interleaved rounds, 50 connections.',
    '',
    '| measure | keygate | baseline | keygate vs baseline | target |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function httpRows(http: HttpVerdict | undefined): string[][] {
  if (!http) return [];
  const info = http.medians.get('keygate info');
  const warn = http.medians.get('keygate warn');
  const lean = http.medians.get('lean');
  const leanBatched = http.medians.get('lean batched');
  const limits = http.medians.get('keygate limits');
  const usageOff = http.medians.get('keygate usage-off');
  const { infoThroughput, infoP99, warnThroughput, warnP99, infoCpu } = http.comparisons;
  const { usageThroughput, limitsThroughput, batchedThroughput, batchedCpu } = http.comparisons;
  if (!info || !warn || !lean || !leanBatched || !limits || !usageOff) return [];

  const judged = (met: boolean | undefined, target: string) => `${target} ${verdict(met ?? false)}`;
  const leanRps = `lean node:http verifier ${count(lean.requestsPerSecond)}`;
  return [
    [
      '`POST /v1/keys/verify`, req/s',
      count(info.requestsPerSecond),
      leanRps,
      ratio(infoThroughput.value),
      judged(infoThroughput.met, `≥ ${ratio(THROUGHPUT_TARGET)}`),
    ],
    [
      '— p99 latency',
      ms(info.p99Ms),
      `lean ${ms(lean.p99Ms)}`,
      msDifference(infoP99.value),
      judged(infoP99.met, `≤ +${P99_TARGET_MS} ms`),
    ],
    [
      '— req/s, request log off (`warn`)',
      count(warn.requestsPerSecond),
      leanRps,
      ratio(warnThroughput.value),
      judged(warnThroughput.met, `≥ ${ratio(THROUGHPUT_TARGET)}`),
    ],
    [
      '— p99, request log off',
      ms(warn.p99Ms),
      `lean ${ms(lean.p99Ms)}`,
      msDifference(warnP99.value),
      judged(warnP99.met, `≤ +${P99_TARGET_MS} ms`),
    ],
    [
      '— server CPU per verification',
      `${count(info.serverCpuUs)} µs`,
      `lean ${count(lean.serverCpuUs)} µs`,
      ratio(infoCpu.value),
      '',
    ],
    [
      '— req/s against a lean verifier that batches its writes as keygate does',
      count(info.requestsPerSecond),
      `lean batched ${count(leanBatched.requestsPerSecond)}`,
      ratio(batchedThroughput.value),
      '',
    ],
    [
      '— server CPU per verification, against the batching lean verifier',
      `${count(info.serverCpuUs)} µs`,
      `lean batched ${count(leanBatched.serverCpuUs)} µs`,
      ratio(batchedCpu.value),
      '',
    ],
    [
      '— req/s, usage counting on vs off (`KEYGATE_USAGE=off`)',
      count(info.requestsPerSecond),
      `usage counting off ${count(usageOff.requestsPerSecond)}`,
      ratio(usageThroughput.value),
      judged(usageThroughput.met, `≥ ${ratio(USAGE_THROUGHPUT_TARGET)}`),
    ],
    [
      '— req/s, key with 2 rate limits and credits',
      count(limits.requestsPerSecond),
      `plain key ${count(info.requestsPerSecond)}`,
      ratio(limitsThroughput.value),
      judged(limitsThroughput.met, `≥ ${ratio(LIMITS_THROUGHPUT_TARGET)}`),
    ],
  ];
}

function verifyRows(verify: VerifyVerdict | undefined): string[][] {
  if (!verify) return [];
  return [
    [
      'in-process verify of a cached key, ops/s',
      count(verify.verifyOpsPerSecond),
      `\`hashKey\` alone ${count(verify.hashOpsPerSecond)}`,
      ratio(verify.ratio),
      `≥ ${ratio(VERIFY_TARGET)} ${verdict(verify.met)}`,
    ],
  ];
}

function memoryRows(memory: MemoryVerdict | undefined): string[][] {
  if (!memory) return [];
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
  const perKey = `~${count(memory.heapPerCachedKey)}`;
  return [
    [
      `RSS after ${count(memory.few.verified)} / ${count(memory.many.verified)} distinct keys`,
      `${mib(memory.few.rssBytes)} / ${mib(memory.many.rssBytes)}`,
      `cache bound ${count(memory.bound)} entries`,
      `largest cache ${count(memory.largestCacheSize)}; ${perKey} B heap per cached key`,
      `bounded ${verdict(memory.cacheBounded && memory.rssLevelsOff)}`,
    ],
  ];
}

function limiterRows(limiter: LimiterVerdict | undefined): string[][] {
  if (!limiter) return [];
  return [
    [
      'in-memory rate limiter vs `RateLimiterMemory`, one limit per call, ops/s',
      count(limiter.keygateOpsPerSecond),
      `rate-limiter-flexible ${count(limiter.rateLimiterMemoryOpsPerSecond)}`,
      ratio(limiter.ratio),
      `≥ ${ratio(LIMITER_TARGET)} ${verdict(limiter.met)}`,
    ],
  ];
}

function usageRows(usage: UsageVerdict | undefined): string[][] {
  if (!usage) return [];
  return [
    [
      `30-day hourly usage query, workspace-wide, ${count(usage.manyVerifications)} verifications`,
      ms(usage.manyMs),
      `${count(usage.fewVerifications)} verifications ${ms(usage.fewMs)}`,
      ratio(usage.ratio),
      `≤ ${ratio(USAGE_QUERY_TARGET)} ${verdict(usage.met)}`,
    ],
  ];
}
