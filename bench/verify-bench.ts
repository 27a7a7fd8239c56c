/** Part (b): verifying a cached key in process, against hashing the key alone. */
import { performance } from 'node:perf_hooks';
import { hashKey } from '../src/core/hashing.ts';
import {
  type ProfileStage,
  type ProfileSummary,
  startCpuProfile,
  summarizeProfile,
} from './cpu-profile.ts';
import { type BenchKeygate, createBenchKeygate } from './keygate-fixture.ts';
import type { BenchOptions } from './options.ts';
import { makeTempDir, removeTempDir } from './processes.ts';
import { median, pairedRatios } from './stats.ts';
import { type StepCost, timeVerifySteps } from './verify-steps.ts';

/** A cached verification must run at least this share of the hash-alone rate. */
export const VERIFY_TARGET = 0.8;

/** The parts of a cached verification worth naming in its profile. */
export const VERIFY_STAGES: ProfileStage[] = [
  { name: 'hashKey (HMAC-SHA256)', frame: /^hashKey src\/core\/hashing\.ts$/ },
  { name: 'parseKey (pattern, CRC-32)', frame: /^parseKey src\/core\/key-format\.ts$/ },
  {
    name: 'permission check (visible → holdsPermission)',
    frame: /^visible src\/services\/verify\.ts$/,
  },
  { name: 'cache lookup (RecordCache.get)', frame: /^get src\/services\/record-cache\.ts$/ },
  { name: 'garbage collection', frame: /^\(garbage collector\)$/ },
];

/** Operations per second of each batch, in the order they ran; batch `i` of each is a pair. */
export interface VerifyBenchResult {
  hashOpsPerSecond: number[];
  verifyOpsPerSecond: number[];
  /** verify / hash, pair by pair. */
  ratios: number[];
  batchSize: number;
  /** Where a verification's time goes; measured when the target is missed or asked for. */
  explanation?: { steps: StepCost[]; wholeNs: number; profile: ProfileSummary };
}

/** Something run `n` times; answers how many runs gave a wrong answer. */
type Batch = (n: number) => Promise<number> | number;

const CALIBRATION_OPS = 20_000;
const PROFILE_MS = 2_000;

/** Alternates batches of `hashKey` and of cached `verifier.verify`, and times each. */
export async function runVerifyBench(
  options: BenchOptions['verify'],
  profile: boolean,
): Promise<VerifyBenchResult> {
  const dataDir = await makeTempDir('verify');
  let fixture: BenchKeygate | undefined;
  try {
    fixture = await createBenchKeygate(dataDir);
    const { key, record } = await fixture.keygate.keys.create(fixture.actor, fixture.apiId, {});
    const { hashBatch, verifyBatch } = await cachedKeyBatches(fixture, key, record.hash);
    const batchSize = await calibrate([hashBatch, verifyBatch], options.batchMs);
    const { hashOpsPerSecond, verifyOpsPerSecond } = await alternate(
      hashBatch,
      verifyBatch,
      batchSize,
      options.pairs,
    );

    const ratios = pairedRatios(verifyOpsPerSecond, hashOpsPerSecond);
    const result = { hashOpsPerSecond, verifyOpsPerSecond, ratios, batchSize };
    if (!profile && median(ratios) >= VERIFY_TARGET) return result;

    const steps = await timeVerifySteps(fixture, key, record);
    return {
      ...result,
      explanation: { ...steps, profile: await profileBatch(verifyBatch, batchSize) },
    };
  } finally {
    await fixture?.close();
    await removeTempDir(dataDir);
  }
}

/** Batches of hashing the key, and of verifying it once its record is cached. */
async function cachedKeyBatches(fixture: BenchKeygate, key: string, hash: string) {
  const { keygate, actor, pepper } = fixture;
  const first = await keygate.verifier.verify(actor, { key });
  if (first.code !== 'VALID') throw new Error(`the bench key verifies as ${first.code}`);

  const request = { key };
  const hashBatch: Batch = (n) => {
    let wrong = 0;
    for (let i = 0; i < n; i++) if (hashKey(pepper, key) !== hash) wrong++;
    return wrong;
  };
  // A cached key is answered at once; awaiting only a promise is what a caller does.
  const verifyBatch: Batch = async (n) => {
    let wrong = 0;
    for (let i = 0; i < n; i++) {
      const answer = keygate.verifier.verify(actor, request);
      const outcome = answer instanceof Promise ? await answer : answer;
      if (!outcome.valid) wrong++;
    }
    return wrong;
  };
  return { hashBatch, verifyBatch };
}

/** The batch size that makes the slower batch last about `batchMs`. */
async function calibrate(batches: Batch[], batchMs: number): Promise<number> {
  let slowest = Number.POSITIVE_INFINITY;
  for (const batch of batches) {
    await opsPerSecond(batch, CALIBRATION_OPS);
    slowest = Math.min(slowest, await opsPerSecond(batch, CALIBRATION_OPS));
  }
  return Math.max(1_000, Math.round((slowest * batchMs) / 1000));
}

/** Runs the two batches `pairs` times each, swapping which goes first every pair. */
async function alternate(hashBatch: Batch, verifyBatch: Batch, batchSize: number, pairs: number) {
  const hashOpsPerSecond: number[] = [];
  const verifyOpsPerSecond: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    const hashFirst = pair % 2 === 0;
    if (hashFirst) hashOpsPerSecond.push(await opsPerSecond(hashBatch, batchSize));
    verifyOpsPerSecond.push(await opsPerSecond(verifyBatch, batchSize));
    if (!hashFirst) hashOpsPerSecond.push(await opsPerSecond(hashBatch, batchSize));
  }
  return { hashOpsPerSecond, verifyOpsPerSecond };
}

async function opsPerSecond(batch: Batch, n: number): Promise<number> {
  const started = performance.now();
  const wrong = await batch(n);
  const seconds = (performance.now() - started) / 1000;
  if (wrong > 0) throw new Error(`${wrong} of ${n} operations gave a wrong answer`);
  return n / seconds;
}

/** Profiles verifications of the cached key for about two seconds. */
async function profileBatch(batch: Batch, batchSize: number): Promise<ProfileSummary> {
  const stop = await startCpuProfile();
  const deadline = performance.now() + PROFILE_MS;
  while (performance.now() < deadline) await batch(batchSize);
  return summarizeProfile(await stop(), VERIFY_STAGES);
}
