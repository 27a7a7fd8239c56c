/** The tables of part (b). */
import { count, ratio, table, verdict } from './format.ts';
import { profileTables } from './profile-report.ts';
import { median, range } from './stats.ts';
import { VERIFY_TARGET, type VerifyBenchResult } from './verify-bench.ts';

/** The figures of part (b) that the summary and the README block need. */
export interface VerifyVerdict {
  hashOpsPerSecond: number;
  verifyOpsPerSecond: number;
  ratio: number;
  met: boolean;
}

/** Medians of each side, and the median of the paired ratios against the target. */
export function judgeVerify(result: VerifyBenchResult): VerifyVerdict {
  const value = median(result.ratios);
  return {
    hashOpsPerSecond: median(result.hashOpsPerSecond),
    verifyOpsPerSecond: median(result.verifyOpsPerSecond),
    ratio: value,
    met: value >= VERIFY_TARGET,
  };
}

/** The ops/s table and the comparison with its verdict. */
export function verifyTables(result: VerifyBenchResult, judged: VerifyVerdict): string {
  const spread = range(result.ratios);
  const rates = table(
    ['operation (median of batches)', 'ops/s', 'µs/op'],
    [
      [
        'hashKey(pepper, key) alone',
        count(judged.hashOpsPerSecond),
        micros(judged.hashOpsPerSecond),
      ],
      [
        'keygate.verifier.verify(actor, { key }), cached',
        count(judged.verifyOpsPerSecond),
        micros(judged.verifyOpsPerSecond),
      ],
    ],
  );
  const comparison = table(
    ['comparison (median of paired batches)', 'value', 'batches range', 'target', ''],
    [
      [
        'verify / hashKey, ops/s',
        ratio(judged.ratio),
        `${ratio(spread.min)} … ${ratio(spread.max)}`,
        `≥ ${ratio(VERIFY_TARGET)}`,
        verdict(judged.met),
      ],
    ],
  );
  const batches = `${result.ratios.length} pairs of batches of ${count(result.batchSize)}`;
  const tables = [rates, '', comparison, `(${batches} operations)`];
  if (result.explanation) tables.push('', verifyExplanation(result));
  return tables.join('\n');
}

/** Where a cached verification's time goes: each step alone, then the profile. */
function verifyExplanation(result: VerifyBenchResult): string {
  const explanation = result.explanation;
  if (!explanation) return '';

  const accounted = explanation.steps.reduce((sum, step) => sum + step.ns, 0);
  const share = (ns: number) => `${Math.round((100 * ns) / explanation.wholeNs)}%`;
  const rows = explanation.steps.map((step) => [step.step, count(step.ns), share(step.ns)]);
  rows.push([
    'rest: verify’s own code, objects, promise hops',
    count(explanation.wholeNs - accounted),
    share(explanation.wholeNs - accounted),
  ]);
  rows.push(['whole verify, cached', count(explanation.wholeNs), '100%']);
  const steps = table(['step of a cached verify, timed alone', 'ns/call', 'share'], rows);
  const perVerify = explanation.wholeNs / 1000;
  return [
    'Where a cached verification spends its time: each step timed alone, interleaved,',
    'then a 2 s CPU profile of verifications, split over the whole verify time above.',
    '',
    steps,
    '',
    profileTables(explanation.profile, perVerify, 'verify'),
  ].join('\n');
}

function micros(opsPerSecond: number): string {
  return (1e6 / opsPerSecond).toFixed(2);
}
