/** The closing lines of a run: every target with PASS or MISS. */
import { verdict } from './format.ts';
import { LIMITS_THROUGHPUT_TARGET, P99_TARGET_MS, THROUGHPUT_TARGET } from './http-report.ts';
import { LIMITER_TARGET } from './limiter-report.ts';
import type { BenchVerdicts } from './readme-block.ts';
import { VERIFY_TARGET } from './verify-bench.ts';

/** One line per target of the parts that ran. */
export function targetLines(verdicts: BenchVerdicts): string[] {
  const lines: string[] = [];
  const line = (met: boolean | undefined, text: string) =>
    lines.push(`  ${verdict(met ?? false)}  ${text}`);

  if (verdicts.http) {
    const { infoThroughput, infoP99, limitsThroughput } = verdicts.http.comparisons;
    const p99 = `${infoP99.value >= 0 ? '+' : ''}${infoP99.value.toFixed(2)} ms`;
    const limits = `${limitsThroughput.value.toFixed(2)}×`;
    line(
      infoThroughput.met,
      `(a) keygate ≥ ${THROUGHPUT_TARGET}× lean req/s: ${infoThroughput.value.toFixed(2)}×`,
    );
    line(infoP99.met, `(a) keygate p99 within ${P99_TARGET_MS} ms of lean: ${p99}`);
    line(
      limitsThroughput.met,
      `(a) key with 2 limits + credits ≥ ${LIMITS_THROUGHPUT_TARGET}× plain key req/s: ${limits}`,
    );
  }
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
  return lines;
}
