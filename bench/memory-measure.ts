/**
 * Part (c), second process, started fresh with `--expose-gc`: verifies every stored key once
 * through a bounded cache, and reports resident memory and the cache's size at checkpoints.
 */
import { type FixtureSecrets, reopenBenchKeygate } from './keygate-fixture.ts';
import { stopWithParent, tellParent } from './targets/child-protocol.ts';

/** What the orchestrator asks for: verify `keys` in order, measuring after each checkpoint. */
export interface MeasureRequest {
  kind: 'measure';
  dataDir: string;
  fixture: FixtureSecrets;
  keys: string[];
  /** Counts of verified keys after which to measure, ascending. */
  checkpoints: number[];
  cacheMaxEntries: number;
}

/** Memory and cache size after `verified` distinct keys were verified. */
export interface MemoryCheckpoint {
  kind: 'checkpoint';
  verified: number;
  rssBytes: number;
  heapUsedBytes: number;
  cacheSize: number;
  /** The largest cache size seen after any verification so far. */
  largestCacheSize: number;
  seconds: number;
}

/** Resident memory and live heap after two full collections. */
function measureMemory(): { rssBytes: number; heapUsedBytes: number } {
  globalThis.gc?.();
  globalThis.gc?.();
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed };
}

async function measure(request: MeasureRequest): Promise<void> {
  const started = performance.now();
  const fixture = await reopenBenchKeygate(request.dataDir, request.fixture, {
    maxEntries: request.cacheMaxEntries,
  });
  const { verifier } = fixture.keygate;
  const cache = {
    get size() {
      return verifier.cachedKeys;
    },
  };

  let verified = 0;
  let largestCacheSize = 0;
  const checkpoint = () => {
    const seconds = (performance.now() - started) / 1000;
    const sizes = { cacheSize: cache.size, largestCacheSize };
    tellParent({ kind: 'checkpoint', verified, ...measureMemory(), ...sizes, seconds });
  };

  checkpoint();
  for (const stop of request.checkpoints) {
    for (; verified < stop; verified++) {
      const outcome = await verifier.verify(fixture.actor, { key: request.keys[verified] ?? '' });
      if (outcome.code !== 'VALID') throw new Error(`stored key ${verified} is ${outcome.code}`);
      largestCacheSize = Math.max(largestCacheSize, cache.size);
    }
    checkpoint();
  }
  await fixture.close();
}

stopWithParent(() => undefined);
process.once('message', (request: MeasureRequest) => {
  measure(request).then(
    () => tellParent({ kind: 'done' }),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
});
tellParent({ kind: 'ready' });
