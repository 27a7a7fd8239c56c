/**
 * Part (c), first process: creates a store holding many keys of one API, inserted the way
 * `KeyService.create` builds them, and hands the keys to the orchestrator.
 */
import { hashKey } from '../src/core/hashing.ts';
import { newId } from '../src/core/ids.ts';
import { generateKey, keyStart, parseKey } from '../src/core/key-format.ts';
import type { KeyRecord } from '../src/store/types.ts';
import { type BenchKeygate, createBenchKeygate, type FixtureSecrets } from './keygate-fixture.ts';
import { stopWithParent, tellParent } from './targets/child-protocol.ts';

/** What the orchestrator asks for. */
export interface SeedRequest {
  kind: 'seed';
  dataDir: string;
  keys: number;
}

/** The stored keys, in plain text, and what it takes to open the store again. */
export interface SeedResult {
  kind: 'seeded';
  fixture: FixtureSecrets;
  keys: string[];
  seconds: number;
}

const INSERT_BATCH = 5_000;

/** Stores `count` keys with no settings, in transactions of a few thousand inserts. */
async function storeKeys(fixture: BenchKeygate, count: number): Promise<string[]> {
  const keys: string[] = [];
  while (keys.length < count) {
    const batch = Array.from({ length: Math.min(INSERT_BATCH, count - keys.length) }, () =>
      generateKey('kg'),
    );
    const records = batch.map((key) => keyRecord(fixture, key));
    await fixture.store.transaction(async (tx) => {
      for (const record of records) await tx.insertKey(record);
    });
    keys.push(...batch);
  }
  return keys;
}

/** A key record with no settings, as `KeyService` builds one. */
function keyRecord(fixture: BenchKeygate, key: string): KeyRecord {
  const parsed = parseKey(key);
  if (!parsed) throw new Error('generateKey made a malformed key');

  const now = Date.now();
  const id = newId('key', now);
  return {
    id,
    lineageId: id,
    creditBalanceId: null,
    workspaceId: fixture.actor.workspaceId,
    apiId: fixture.apiId,
    hash: hashKey(fixture.pepper, key),
    pepperVersion: fixture.pepper.version,
    start: keyStart(parsed),
    name: null,
    externalId: null,
    meta: null,
    permissions: [],
    enabled: true,
    expiresAt: null,
    credits: null,
    ratelimits: [],
    createdAt: now,
    updatedAt: now,
    lastUsedAt: null,
    revokedAt: null,
    rolledFrom: null,
  };
}

async function seed(request: SeedRequest): Promise<SeedResult> {
  const started = performance.now();
  const fixture = await createBenchKeygate(request.dataDir);
  try {
    const keys = await storeKeys(fixture, request.keys);
    const seconds = (performance.now() - started) / 1000;
    return { kind: 'seeded', fixture: fixture.secrets, keys, seconds };
  } finally {
    await fixture.close();
  }
}

stopWithParent(() => undefined);
process.once('message', (request: SeedRequest) => {
  seed(request).then(tellParent, (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
});
tellParent({ kind: 'ready' });
