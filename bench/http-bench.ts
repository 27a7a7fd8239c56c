/** Part (a): verifications per second and p99 latency over HTTP, keygate against baselines. */
import { failedRequests, type LoadSample, runVerifyLoad } from './http-load.ts';
import {
  type HttpTarget,
  serverCpuTime,
  startBareTarget,
  startKeygateTarget,
  startLeanTarget,
} from './http-targets.ts';
import type { BenchOptions } from './options.ts';

/** One measured run against one target. */
export interface RoundSample extends LoadSample {
  /** The server process's CPU time per answer, in microseconds. */
  serverCpuUs: number;
  /** The part of `serverCpuUs` spent in the kernel: socket reads and writes, mostly. */
  serverSystemUs: number;
}

/** The samples of one target, one per round, in round order. */
export interface TargetSamples {
  name: string;
  description: string;
  samples: RoundSample[];
}

/** Every target's samples; round `i` of each target ran in the same interleaved round. */
export interface HttpBenchResult {
  targets: TargetSamples[];
  shape: BenchOptions['http'];
}

/** Starts the seven targets, runs interleaved rounds against them, and stops them. */
export async function runHttpBench(
  options: BenchOptions['http'],
  progress: (line: string) => void,
): Promise<HttpBenchResult> {
  const targets: HttpTarget[] = [];
  try {
    targets.push(await startKeygateTarget('info'));
    targets.push(await startKeygateTarget('usage-off'));
    targets.push(await startKeygateTarget('warn'));
    targets.push(await startKeygateTarget('limits'));
    targets.push(await startLeanTarget());
    targets.push(await startLeanTarget(true));
    targets.push(await startBareTarget());

    const samples = new Map(targets.map((target) => [target.name, [] as RoundSample[]]));
    for (let round = 0; round < options.rounds; round++) {
      const order = rotate(targets, round);
      for (const target of order)
        samples.get(target.name)?.push(await measureTarget(target, options));
      progress(describeRound(round, options.rounds, order, samples));
    }

    return {
      targets: targets.map(({ name, description }) => ({
        name,
        description,
        samples: samples.get(name) ?? [],
      })),
      shape: options,
    };
  } finally {
    await Promise.allSettled(targets.map((target) => target.stop()));
  }
}

/** A warm-up run, then the measured run with the server's CPU time around it. */
async function measureTarget(
  target: HttpTarget,
  options: BenchOptions['http'],
): Promise<RoundSample> {
  const shape = { connections: options.connections, pipelining: options.pipelining };
  await runVerifyLoad(target.call, { ...shape, seconds: options.warmupSeconds });

  const before = await serverCpuTime(target);
  const sample = await runVerifyLoad(target.call, { ...shape, seconds: options.seconds });
  const after = await serverCpuTime(target);
  const user = after.user - before.user;
  const system = after.system - before.system;
  return {
    ...sample,
    serverCpuUs: (user + system) / sample.answers,
    serverSystemUs: system / sample.answers,
  };
}

/** The targets in the order round `round` runs them: each round starts one further along. */
function rotate<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function describeRound(
  round: number,
  rounds: number,
  order: readonly HttpTarget[],
  samples: Map<string, RoundSample[]>,
): string {
  const parts = order.map((target) => {
    const sample = samples.get(target.name)?.at(-1);
    if (!sample) return target.name;
    const failed = failedRequests(sample);
    const failures = failed > 0 ? `, ${failed} FAILED` : '';
    const rate = `${Math.round(sample.requestsPerSecond)}/s`;
    const p99 = `p99 ${sample.p99Ms.toFixed(1)} ms`;
    return `${target.name} ${rate} ${p99} ${Math.round(sample.serverCpuUs)} µs CPU${failures}`;
  });
  return `  round ${round + 1}/${rounds}: ${parts.join(' | ')}`;
}
