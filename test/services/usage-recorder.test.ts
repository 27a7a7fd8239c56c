import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newId } from '../../src/core/ids.ts';
import { UsageRecorder } from '../../src/services/usage-recorder.ts';
import type { Store, UsageScope } from '../../src/store/types.ts';
import { describeEachStore } from '../support/databases.ts';
import { keyRecord } from '../support/records.ts';

const T0 = Date.UTC(2026, 4, 1, 9);
const HOUR = 3_600_000;
const EVERYTHING: UsageScope = { apiId: '', keyId: '', externalId: '', tag: '' };
const BY_HAND = { enabled: true, flushIntervalMs: 60_000, flushEvents: 1_000_000 };

/** The store, whose next `times` transactions fail as they would with the database gone. */
function failingFor(store: Store, times: number): Store {
  let failures = times;
  return {
    ...store,
    transaction(work) {
      if (failures === 0) return store.transaction(work);
      failures -= 1;
      return Promise.reject(new Error('the store went away'));
    },
  };
}

describeEachStore('the usage recorder', (store) => {
  async function hourOf(workspaceId: string, scope: Partial<UsageScope>) {
    const range = { workspaceId, granularity: 'hour' as const, from: T0, to: T0 + HOUR };
    const [bucket] = await store().readUsage({ ...EVERYTHING, ...scope, ...range });
    return bucket?.counts;
  }

  it('keeps the counts of a failed write and writes them once, with the next', async () => {
    const workspaceId = newId('ws');
    const key = keyRecord({ id: newId('key'), workspaceId, apiId: 'api_1', createdAt: T0 });
    const errors: unknown[] = [];
    const recorder = new UsageRecorder(failingFor(store(), 1), BY_HAND, (error) => {
      errors.push(error);
    });
    for (let count = 0; count < 5; count += 1) recorder.recordKey(workspaceId, key, 'VALID', T0);
    recorder.record({
      workspaceId,
      apiId: 'api_1',
      keyId: undefined,
      externalId: undefined,
      code: 'NOT_FOUND',
      tags: ['beta'],
      at: T0 + 1,
    });

    await recorder.flush();
    assert.equal(errors.length, 1);
    assert.deepEqual(recorder.backlog, { events: 6, oldestAt: T0, failedWrites: 1 });
    assert.equal(recorder.pendingLastUse(key.id), T0);

    recorder.recordKey(workspaceId, key, 'VALID', T0 + 2);
    await recorder.close();
    assert.equal(recorder.backlog.events, 0);
    assert.equal((await hourOf(workspaceId, {}))?.VALID, 6);
    assert.equal((await hourOf(workspaceId, {}))?.NOT_FOUND, 1);
    assert.equal((await hourOf(workspaceId, { apiId: 'api_1', tag: 'beta' }))?.NOT_FOUND, 1);
  });

  it('counts a key under the customer it has at each verification, however it changes', async () => {
    const workspaceId = newId('ws');
    const first = keyRecord({ id: newId('key'), workspaceId, apiId: 'api_1', createdAt: T0 });
    const moved = { ...first, externalId: 'cus_b' };
    const recorder = new UsageRecorder(store(), BY_HAND);

    recorder.recordKey(workspaceId, { ...first, externalId: 'cus_a' }, 'VALID', T0);
    recorder.recordKey(workspaceId, moved, 'VALID', T0 + 10);
    recorder.recordKey(workspaceId, moved, 'DISABLED', T0 + 20);
    await recorder.close();

    assert.equal((await hourOf(workspaceId, { externalId: 'cus_a' }))?.VALID, 1);
    assert.equal((await hourOf(workspaceId, { externalId: 'cus_b' }))?.VALID, 1);
    assert.equal((await hourOf(workspaceId, { externalId: 'cus_b' }))?.DISABLED, 1);
    assert.equal((await hourOf(workspaceId, { keyId: first.id }))?.VALID, 2);
    assert.equal((await hourOf(workspaceId, {}))?.VALID, 2);
  });
});
