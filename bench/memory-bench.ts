/** Part (c): resident memory while verifying many distinct keys through the bounded cache. */
import type { MeasureRequest, MemoryCheckpoint } from './memory-measure.ts';
import type { SeedRequest, SeedResult } from './memory-seed.ts';
import type { BenchOptions } from './options.ts';
import { makeTempDir, removeTempDir, startChild } from './processes.ts';

const STEP_TIMEOUT_MS = 180_000;

/** The checkpoints of one run, the first before any verification. */
export interface MemoryBenchResult {
  options: BenchOptions['memory'];
  seedSeconds: number;
  checkpoints: MemoryCheckpoint[];
}

/**
 * Stores the keys in one child process, then verifies them in a fresh one started with
 * `--expose-gc`, so the figures carry nothing of the inserts.
 */
export async function runMemoryBench(
  options: BenchOptions['memory'],
  progress: (line: string) => void,
): Promise<MemoryBenchResult> {
  const dataDir = await makeTempDir('memory');
  try {
    const seeded = await seedStore(dataDir, options.checkpoints.at(-1) ?? 0);
    progress(`  stored ${seeded.keys.length} keys in ${seeded.seconds.toFixed(1)} s`);
    const checkpoints = await verifyStoredKeys(dataDir, seeded, options, progress);
    return { options, seedSeconds: seeded.seconds, checkpoints };
  } finally {
    await removeTempDir(dataDir);
  }
}

async function seedStore(dataDir: string, keys: number): Promise<SeedResult> {
  const child = startChild({
    name: 'memory seed',
    module: new URL('./memory-seed.ts', import.meta.url),
  });
  try {
    await child.message('ready', STEP_TIMEOUT_MS);
    child.send({ kind: 'seed', dataDir, keys } satisfies SeedRequest);
    return await child.message<SeedResult>('seeded', STEP_TIMEOUT_MS);
  } finally {
    await child.stop();
  }
}

async function verifyStoredKeys(
  dataDir: string,
  seeded: SeedResult,
  options: BenchOptions['memory'],
  progress: (line: string) => void,
): Promise<MemoryCheckpoint[]> {
  const child = startChild({
    name: 'memory measure',
    module: new URL('./memory-measure.ts', import.meta.url),
    nodeOptions: ['--expose-gc'],
  });
  try {
    await child.message('ready', STEP_TIMEOUT_MS);
    const { fixture, keys } = seeded;
    const { checkpoints: stops, cacheMaxEntries } = options;
    child.send({
      kind: 'measure',
      dataDir,
      fixture,
      keys,
      checkpoints: stops,
      cacheMaxEntries,
    } satisfies MeasureRequest);

    const checkpoints: MemoryCheckpoint[] = [];
    while (checkpoints.length <= stops.length) {
      const checkpoint = await child.message<MemoryCheckpoint>('checkpoint', STEP_TIMEOUT_MS);
      checkpoints.push(checkpoint);
      progress(`  verified ${checkpoint.verified} keys after ${checkpoint.seconds.toFixed(1)} s`);
    }
    await child.message('done', STEP_TIMEOUT_MS);
    return checkpoints;
  } finally {
    await child.stop();
  }
}
