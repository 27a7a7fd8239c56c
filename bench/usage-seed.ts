/**
 * Part (e), setting up: a keygate store on SQLite whose usage holds a month of verifications,
 * recorded through the real recorder in time order, as a server records them.
 */
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import { type CodeCounts, USAGE_CODES } from '../src/services/usage.ts';
import { BUCKET_MS } from '../src/services/usage-recorder.ts';
import type { VerifyCode } from '../src/services/verify.ts';
import type { KeyRecord, UsageGranularity } from '../src/store/types.ts';
import { type BenchKeygate, benchDatabaseFile, createBenchKeygate } from './keygate-fixture.ts';
import { makeTempDir, removeTempDir } from './processes.ts';

/**
 * The end of the month recorded. Fixed, so that every run records the same verifications;
 * half past an hour, so that the query's first bucket is rounded down and it holds 721 hours.
 */
export const RECORDED_UNTIL = Date.UTC(2025, 5, 1, 12, 30);
/** How far back before `RECORDED_UNTIL` the verifications go: 30 days. */
export const RECORDED_SPAN_MS = 30 * BUCKET_MS.day;

// Waiting for a write this often keeps what the recorder gathers bounded, as its interval does
// in a server; the recorder also starts writes of its own every 10,000 verifications.
const WRITE_EVERY = 50_000;
const KEYS_PER_CUSTOMER = 10;

/** How verifications end: mostly valid, some denied, a few naming a key that does not exist. */
const CODE_SHARES: readonly (readonly [VerifyCode, number])[] = [
  ['VALID', 0.9],
  ['RATE_LIMITED', 0.06],
  ['NOT_FOUND', 0.02],
  ['USAGE_EXCEEDED', 0.015],
  ['EXPIRED', 0.005],
];

/** The series part (e) queries: the workspace's, its one API's, and one key's. */
export type QueriedSeries = 'workspace' | 'api' | 'key';

/** A seeded store and what was recorded into it. */
export interface UsageStore {
  fixture: BenchKeygate;
  verifications: number;
  keys: number;
  /** The key whose series is queried: the first key made, verified like every other. */
  keyId: string;
  /** Verifications recorded into each series queried, by code. */
  recorded: Record<QueriedSeries, CodeCounts>;
  keysSeconds: number;
  /** Recording every verification and waiting for the writes. */
  recordSeconds: number;
  /** Rows of `usage_counts` once everything is written, every series included. */
  usageRows: Record<UsageGranularity, number>;
  /** Closes the store and removes its directory. */
  close(): Promise<void>;
}

/** A fresh store in a temporary directory with `keys` keys and `verifications` recorded. */
export async function seedUsageStore(verifications: number, keys: number): Promise<UsageStore> {
  const dataDir = await makeTempDir(`usage-${verifications}`);
  let fixture: BenchKeygate | undefined;
  try {
    fixture = await createBenchKeygate(dataDir);
    return await fillStore(fixture, dataDir, verifications, keys);
  } catch (error) {
    await fixture?.close();
    await removeTempDir(dataDir);
    throw error;
  }
}

async function fillStore(
  fixture: BenchKeygate,
  dataDir: string,
  verifications: number,
  keys: number,
): Promise<UsageStore> {
  const keysStarted = performance.now();
  const records = await createKeys(fixture, keys);
  const queried = records[0];
  if (queried === undefined) throw new Error('part (e) needs at least one key');

  const recordStarted = performance.now();
  const recorded = await recordVerifications(fixture, records, queried, verifications);
  const recordSeconds = (performance.now() - recordStarted) / 1000;
  return {
    fixture,
    verifications,
    keys,
    keyId: queried.id,
    recorded,
    keysSeconds: (recordStarted - keysStarted) / 1000,
    recordSeconds,
    usageRows: countUsageRows(dataDir),
    close: async () => {
      await fixture.close();
      await removeTempDir(dataDir);
    },
  };
}

/** Real keys, made as a user makes them, ten to a customer. */
async function createKeys(fixture: BenchKeygate, count: number): Promise<KeyRecord[]> {
  const records: KeyRecord[] = [];
  for (let index = 0; index < count; index += 1) {
    const externalId = `customer_${Math.floor(index / KEYS_PER_CUSTOMER)}`;
    const { keygate, actor, apiId } = fixture;
    const { record } = await keygate.keys.create(actor, apiId, { externalId });
    records.push(record);
  }
  return records;
}

/**
 * Records `count` verifications spread evenly over the month, each of a random key, and
 * waits until they are written; answers what each queried series must total.
 */
async function recordVerifications(
  fixture: BenchKeygate,
  keys: readonly KeyRecord[],
  queried: KeyRecord,
  count: number,
): Promise<Record<QueriedSeries, CodeCounts>> {
  const recorder = fixture.keygate.usageRecorder;
  const recorded = { workspace: zeroCounts(), api: zeroCounts(), key: zeroCounts() };
  const random = seededRandom(count);
  const from = RECORDED_UNTIL - RECORDED_SPAN_MS;

  for (let index = 0; index < count; index += 1) {
    // One verification per slot of equal length, at a random point in it: uniform over the
    // month, and in time order.
    const at = from + Math.floor(((index + random()) * RECORDED_SPAN_MS) / count);
    const code = codeAt(random());
    const key = keys[Math.floor(random() * keys.length)] ?? queried;
    recordOne(fixture, key, code, at);
    countIn(recorded, key === queried, code);
    if ((index + 1) % WRITE_EVERY === 0) await recorder.flush();
  }

  await recorder.flush();
  const { events, failedWrites } = recorder.backlog;
  if (events > 0 || failedWrites > 0) {
    throw new Error(
      `usage writes failed: ${failedWrites} failed, ${events} verifications unwritten`,
    );
  }
  return recorded;
}

/** Records a verification as the verify service does: a found key by its record. */
function recordOne(fixture: BenchKeygate, key: KeyRecord, code: VerifyCode, at: number): void {
  const { keygate, actor } = fixture;
  if (code !== 'NOT_FOUND') {
    keygate.usageRecorder.recordKey(actor.workspaceId, key, code, at);
    return;
  }
  // A key that does not exist has no API, key or customer to count under, and most requests
  // name no API: it counts in the workspace's series only.
  keygate.usageRecorder.record({
    workspaceId: actor.workspaceId,
    apiId: undefined,
    keyId: undefined,
    externalId: undefined,
    code,
    tags: undefined,
    at,
  });
}

function countIn(
  recorded: Record<QueriedSeries, CodeCounts>,
  queriedKey: boolean,
  code: VerifyCode,
): void {
  recorded.workspace[code] += 1;
  if (code === 'NOT_FOUND') return;
  recorded.api[code] += 1;
  if (queriedKey) recorded.key[code] += 1;
}

/** The code whose share of the verifications holds `fraction`, a number in [0, 1). */
function codeAt(fraction: number): VerifyCode {
  let below = 0;
  for (const [code, share] of CODE_SHARES) {
    below += share;
    if (fraction < below) return code;
  }
  return 'VALID';
}

function zeroCounts(): CodeCounts {
  return Object.fromEntries(USAGE_CODES.map((code) => [code, 0])) as CodeCounts;
}

/** Numbers in [0, 1) that repeat from run to run for the same seed (mulberry32). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Counts the rows by granularity on a read-only connection of its own: no store call does. */
function countUsageRows(dataDir: string): Record<UsageGranularity, number> {
  const database = new BetterSqlite3(benchDatabaseFile(dataDir), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    const rows = database
      .prepare('select granularity, count(*) as count from usage_counts group by granularity')
      .all() as { granularity: UsageGranularity; count: number }[];
    const counts = { minute: 0, hour: 0, day: 0 };
    for (const { granularity, count } of rows) counts[granularity] = count;
    return counts;
  } finally {
    database.close();
  }
}
