/** The closing lines of a run: every target with PASS or MISS. */
import { count, verdict } from './format.ts';
import {
  type HttpVerdict,
  LIMITS_THROUGHPUT_TARGET,
  P99_TARGET_MS,
  THROUGHPUT_TARGET,
  USAGE_THROUGHPUT_TARGET,
} from './http-report.ts';
import { LIMITER_TARGET } from './limiter-report.ts';
import type { BenchVerdicts } from './readme-block.ts';
import { USAGE_QUERY_TARGET } from './usage-report.ts';
import { VERIFY_TARGET } from './verify-bench.ts';

/** Adds one PASS or MISS line. */
type Line = (met: boolean | undefined, text: string) => void;

/** One line per target of the parts that ran. */
export function targetLines(verdicts: BenchVerdicts): string[] {
  const lines: string[] = [];
  const line: Line = (met, text) => lines.push(`  ${verdict(met ?? false)}  ${text}`);

  if (verdicts.http) httpLines(verdicts.http, line);
  if (verdicts.verify) {
    const { met, ratio } = verdicts.verify;
    line(met, `(b) cached verify ≥ ${VERIFY_TARGET}× hashKey alone: ${ratio.toFixed(2)}×`);
  }
  if (verdicts.memory) {
    const { cacheBounded, rssLevelsOff, largestCacheSize, bound } = verdicts.memory;
    const cache = `largest ${largestCacheSize.toLocaleString('en-US')}`;
    line(cacheBounded, `(c) cache ≤ ${bound.toLocaleString('en-US')} entries: ${cache}`);
    line(rssLevelsOff, '(c) RSS levels off once the cache is full');
  }
  if (verdicts.limiter) {
    const { met, ratio } = verdicts.limiter;
    line(met, `(d) limiter ≥ ${LIMITER_TARGET}× RateLimiterMemory ops/s: ${ratio.toFixed(2)}×`);
  }
  if (verdicts.usage) {
    const { met, ratio, fewVerifications, manyVerifications } = verdicts.usage;
    const many = `${count(manyVerifications)} verifications`;
    const time = `≤ ${USAGE_QUERY_TARGET}× the time over ${count(fewVerifications)}`;
    line(met, `(e) 30-day hourly usage query over ${many} ${time}: ${ratio.toFixed(2)}×`);
  }
  return lines;
}

function httpLines(http: HttpVerdict, line: Line): void {
  const { infoThroughput, infoP99, usageThroughput, limitsThroughput } = http.comparisons;
  const p99 = `${infoP99.value >= 0 ? '+' : ''}${infoP99.value.toFixed(2)} ms`;
  const usage = `${usageThroughput.value.toFixed(2)}×`;
  const limits = `${limitsThroughput.value.toFixed(2)}×`;
  line(
    infoThroughput.met,
    `(a) keygate ≥ ${THROUGHPUT_TARGET}× lean req/s: ${infoThroughput.value.toFixed(2)}×`,
  );
  line(infoP99.met, `(a) keygate p99 within ${P99_TARGET_MS} ms of lean: ${p99}`);
  line(
    usageThroughput.met,
    `(a) usage counting on ≥ ${USAGE_THROUGHPUT_TARGET}× off req/s: ${usage}`,
  );
  line(
    limitsThroughput.met,
    `(a) key with 2 limits + credits ≥ ${LIMITS_THROUGHPUT_TARGET}× plain key req/s: ${limits}`,
  );
}
