import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newId } from '../../src/core/ids.ts';
import { type CodeCounts, type VerifyCode, zeroCounts } from '../../src/core/verify-codes.ts';
import type { KeyRecord, Store, UsageIncrement, UsageScope } from '../../src/store/types.ts';
import { describeEachStore } from '../support/databases.ts';
import { keyRecord } from '../support/records.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 1);
const EVERYTHING: UsageScope = { apiId: '', keyId: '', externalId: '', tag: '' };

function increment(workspaceId: string, fields: Partial<UsageIncrement>): UsageIncrement {
  return {
    ...EVERYTHING,
    workspaceId,
    granularity: 'hour',
    bucket: T0,
    counts: { VALID: 1 },
    ...fields,
  };
}

/** Counts of every code: zero but for those given. */
function counts(some: Partial<CodeCounts>): CodeCounts {
  return { ...zeroCounts(), ...some };
}

/** A workspace, an API and `count` keys, written to the store. */
async function seedKeys(store: Store, count: number): Promise<KeyRecord[]> {
  const workspaceId = newId('ws');
  const apiId = newId('api');
  await store.insertWorkspace({ id: workspaceId, name: 'usage', createdAt: T0 });
  await store.insertApi({ id: apiId, workspaceId, name: 'a', prefix: 'kg', createdAt: T0 });
  const keys: KeyRecord[] = [];
  for (let index = 0; index < count; index += 1) {
    const key = keyRecord({ id: newId('key'), workspaceId, apiId, createdAt: T0 });
    await store.insertKey(key);
    keys.push(key);
  }
  return keys;
}

describeEachStore('usage counts', (store) => {
  it('adds to a bucket that exists and creates one that does not', async () => {
    const ws = newId('ws');
    await store().addUsage([increment(ws, { counts: { VALID: 3, EXPIRED: 1 } })]);
    await store().addUsage([
      increment(ws, { counts: { VALID: 4 } }),
      increment(ws, { bucket: T0 + HOUR }),
    ]);

    const read = await store().readUsage({
      ...EVERYTHING,
      workspaceId: ws,
      granularity: 'hour',
      from: T0,
      to: T0 + 2 * HOUR,
    });

    assert.deepEqual(read, [
      { bucket: T0, counts: counts({ VALID: 7, EXPIRED: 1 }) },
      { bucket: T0 + HOUR, counts: counts({ VALID: 1 }) },
    ]);
  });

  it('reads one series only: its scope, its granularity, its workspace and its range', async () => {
    const ws = newId('ws');
    const scope = { apiId: 'api_1', keyId: '', externalId: 'cus_1', tag: 'beta' };
    await store().addUsage([
      increment(ws, { ...scope, counts: { VALID: 5 } }),
      increment(ws, { ...scope, tag: '', counts: { VALID: 100 } }),
      increment(ws, { ...scope, granularity: 'day', counts: { VALID: 100 } }),
      increment(newId('ws'), { ...scope, counts: { VALID: 100 } }),
      increment(ws, { ...scope, bucket: T0 - HOUR, counts: { VALID: 100 } }),
      increment(ws, { ...scope, bucket: T0 + HOUR, counts: { VALID: 100 } }),
    ]);

    const read = await store().readUsage({
      ...scope,
      workspaceId: ws,
      granularity: 'hour',
      from: T0,
      to: T0 + HOUR,
    });

    assert.deepEqual(read, [{ bucket: T0, counts: counts({ VALID: 5 }) }]);
  });

  it('keeps counts beyond 32 bits and writes hundreds of buckets at once', async () => {
    const ws = newId('ws');
    const many = Array.from({ length: 1_200 }, (_, index) =>
      increment(ws, { bucket: T0 + index * HOUR, counts: { RATE_LIMITED: 2 ** 40 + index } }),
    );
    await store().addUsage(many);

    const read = await store().readUsage({
      ...EVERYTHING,
      workspaceId: ws,
      granularity: 'hour',
      from: T0,
      to: T0 + 1_200 * HOUR,
    });

    assert.equal(read.length, 1_200);
    assert.equal(read[1_199]?.counts.RATE_LIMITED, 2 ** 40 + 1_199);
  });

  it('ranks keys and identities by the verifications of the codes asked for', async () => {
    const ws = newId('ws');
    await store().addUsage([
      increment(ws, { keyId: 'key_a', counts: { VALID: 5, RATE_LIMITED: 1 } }),
      increment(ws, { keyId: 'key_b', counts: { RATE_LIMITED: 9 } }),
      increment(ws, { keyId: 'key_c', counts: { VALID: 2 }, bucket: T0 + HOUR }),
      increment(ws, { keyId: 'key_d', tag: 'x', counts: { VALID: 50 } }),
      increment(ws, { keyId: 'key_e', counts: { EXPIRED: 70 } }),
      increment(ws, { externalId: 'cus_1', counts: { VALID: 4 } }),
      increment(ws, { apiId: 'api_1', externalId: 'cus_2', counts: { VALID: 40 } }),
    ]);
    const range = { workspaceId: ws, granularity: 'hour' as const, from: T0, to: T0 + 2 * HOUR };

    const all: VerifyCode[] = ['VALID', 'RATE_LIMITED'];
    assert.deepEqual(await store().rankUsage({ ...range, by: 'key', codes: all, limit: 10 }), [
      { id: 'key_b', count: 9 },
      { id: 'key_a', count: 6 },
      { id: 'key_c', count: 2 },
    ]);
    const denied: VerifyCode[] = ['RATE_LIMITED'];
    assert.deepEqual(await store().rankUsage({ ...range, by: 'key', codes: denied, limit: 1 }), [
      { id: 'key_b', count: 9 },
    ]);
    assert.deepEqual(await store().rankUsage({ ...range, by: 'identity', codes: all, limit: 5 }), [
      { id: 'cus_1', count: 4 },
    ]);
  });

  it('prunes the buckets of one granularity older than a time', async () => {
    const ws = newId('ws');
    await store().addUsage([
      increment(ws, { granularity: 'minute', bucket: T0 }),
      increment(ws, { granularity: 'minute', bucket: T0 + HOUR }),
      increment(ws, { granularity: 'hour', bucket: T0 }),
    ]);

    const pruned = await store().pruneUsage('minute', T0 + 1);

    assert.ok(pruned >= 1);
    const range = { ...EVERYTHING, workspaceId: ws, from: T0, to: T0 + 2 * HOUR };
    const minutes = await store().readUsage({ ...range, granularity: 'minute' });
    assert.deepEqual(
      minutes.map((count) => count.bucket),
      [T0 + HOUR],
    );
    assert.equal((await store().readUsage({ ...range, granularity: 'hour' })).length, 1);
  });

  it('moves lastUsedAt forward only, for many keys in one call', async () => {
    const keys = await seedKeys(store(), 3);
    const [first, second, third] = keys.map((key) => key.id) as [string, string, string];
    await store().recordKeyUses([
      { keyId: first, at: T0 + 10 },
      { keyId: second, at: T0 + 20 },
    ]);

    await store().recordKeyUses([
      { keyId: first, at: T0 + 5 },
      { keyId: second, at: T0 + 30 },
      { keyId: 'key_unknown', at: T0 },
    ]);

    const ws = keys[0]?.workspaceId ?? '';
    assert.equal((await store().getKey(ws, first))?.lastUsedAt, T0 + 10);
    assert.equal((await store().getKey(ws, second))?.lastUsedAt, T0 + 30);
    assert.equal((await store().getKey(ws, third))?.lastUsedAt, null);
  });
});
