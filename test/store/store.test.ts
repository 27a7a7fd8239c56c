import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type IdKind, newId } from '../../src/core/ids.ts';
import type { StoreKind } from '../../src/store/migrations.ts';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import {
  type ApiRecord,
  type AuditEventRecord,
  type KeyRecord,
  type RootKeyRecord,
  type Store,
  StoreUnavailableError,
  type WorkspaceRecord,
} from '../../src/store/types.ts';
import {
  createTestDirectory,
  describeEachStore,
  openTestStore,
  removeTestDirectory,
  storeKinds,
} from '../support/databases.ts';
import { keyRecord } from '../support/records.ts';

/** Ids made at strictly increasing times, so their order is the order they were made in. */
let clock = Date.UTC(2025, 0, 1);

function nextId(kind: IdKind): string {
  clock += 1;
  return newId(kind, clock);
}

function randomHash(): string {
  return randomBytes(32).toString('hex');
}

function aWorkspace(): WorkspaceRecord {
  return { id: nextId('ws'), name: 'Acme', createdAt: clock };
}

function aRootKey(workspaceId: string): RootKeyRecord {
  return {
    id: nextId('root'),
    workspaceId,
    name: 'deploy bot',
    hash: randomHash(),
    pepperVersion: 1,
    start: 'kg_root_AbCd',
    permissions: ['api.*.create_key', 'api.api_1.verify_key'],
    createdAt: clock,
  };
}

function anApi(workspaceId: string): ApiRecord {
  return { id: nextId('api'), workspaceId, name: 'payments', prefix: 'pay', createdAt: clock };
}

function aKey(api: ApiRecord, fields: Partial<KeyRecord> = {}): KeyRecord {
  return keyRecord({
    id: nextId('key'),
    workspaceId: api.workspaceId,
    apiId: api.id,
    createdAt: clock,
    pepperVersion: 2,
    start: 'pay_Xy12',
    ...fields,
  });
}

function anAuditEvent(workspaceId: string, fields: Partial<AuditEventRecord> = {}) {
  const event: AuditEventRecord = {
    id: nextId('evt'),
    workspaceId,
    actorId: 'root_actor',
    action: 'key.create',
    targetType: 'key',
    targetId: 'key_target',
    ip: null,
    userAgent: null,
    changes: null,
    createdAt: clock,
    ...fields,
  };
  return event;
}

/** A key with every optional field set, to check that each survives a round trip. */
function aFullKey(api: ApiRecord): KeyRecord {
  return aKey(api, {
    name: 'Customer 42',
    externalId: 'customer_42',
    meta: { plan: 'pro', seats: 3, nested: { flags: [true, null] }, note: 'ünïcødé' },
    permissions: ['documents.read', 'documents.write'],
    enabled: false,
    expiresAt: Date.UTC(2030, 5, 1, 12, 30),
    lineageId: 'key_lineage',
    ratelimits: [
      { name: 'requests', limit: 100, duration: 60_000 },
      { name: 'burst', limit: 10, duration: 1000, algorithm: 'token-bucket', burst: 20 },
      { name: 'tokens', limit: 5, duration: 1000, autoApply: false, shadow: true },
    ],
    lastUsedAt: Date.UTC(2025, 1, 1),
    revokedAt: Date.UTC(2025, 2, 1),
    rolledFrom: 'key_older',
  });
}

async function aWorkspaceWithApi(store: Store): Promise<ApiRecord> {
  const workspace = aWorkspace();
  await store.insertWorkspace(workspace);

  const api = anApi(workspace.id);
  await store.insertApi(api);
  return api;
}

async function insertKeys(store: Store, keys: KeyRecord[]): Promise<void> {
  for (const key of keys) await store.insertKey(key);
}

function ids(records: { id: string }[]): string[] {
  return records.map((record) => record.id);
}

describeEachStore('workspaces', (store) => {
  it('reads back a workspace as inserted', async () => {
    const workspace = aWorkspace();

    await store().insertWorkspace(workspace);

    assert.deepEqual(await store().getWorkspace(workspace.id), workspace);
    assert.equal(await store().getWorkspace('ws_missing'), undefined);
  });

  it('counts workspaces', async () => {
    const before = await store().countWorkspaces();

    await store().insertWorkspace(aWorkspace());
    await store().insertWorkspace(aWorkspace());

    assert.equal(await store().countWorkspaces(), before + 2);
  });
});

describeEachStore('root keys', (store) => {
  it('reads back a root key by id and by hash, within its workspace only', async () => {
    const workspace = aWorkspace();
    const other = aWorkspace();
    await store().insertWorkspace(workspace);
    await store().insertWorkspace(other);
    const rootKey = aRootKey(workspace.id);

    await store().insertRootKey(rootKey);

    assert.deepEqual(await store().getRootKey(workspace.id, rootKey.id), rootKey);
    assert.deepEqual(await store().findRootKeyByHash(rootKey.hash), rootKey);
    assert.equal(await store().getRootKey(other.id, rootKey.id), undefined);
    assert.equal(await store().findRootKeyByHash(randomHash()), undefined);
  });

  it('lists root keys page by page in id order', async () => {
    const workspace = aWorkspace();
    await store().insertWorkspace(workspace);
    const rootKeys = [aRootKey(workspace.id), aRootKey(workspace.id), aRootKey(workspace.id)];
    for (const rootKey of rootKeys) await store().insertRootKey(rootKey);

    const first = await store().listRootKeys(workspace.id, { limit: 2 });
    const second = await store().listRootKeys(workspace.id, {
      limit: 2,
      after: first.nextAfter ?? '',
    });

    assert.deepEqual(first, { items: rootKeys.slice(0, 2), nextAfter: rootKeys[1]?.id });
    assert.deepEqual(second, { items: rootKeys.slice(2), nextAfter: null });
  });

  it('deletes a root key once, returning it', async () => {
    const workspace = aWorkspace();
    await store().insertWorkspace(workspace);
    const rootKey = aRootKey(workspace.id);
    await store().insertRootKey(rootKey);

    assert.equal(await store().deleteRootKey('ws_other', rootKey.id), undefined);
    assert.deepEqual(await store().deleteRootKey(workspace.id, rootKey.id), rootKey);
    assert.equal(await store().deleteRootKey(workspace.id, rootKey.id), undefined);
    assert.equal(await store().findRootKeyByHash(rootKey.hash), undefined);
  });

  it('rejects a second root key with the same hash', async () => {
    const workspace = aWorkspace();
    await store().insertWorkspace(workspace);
    const rootKey = aRootKey(workspace.id);
    await store().insertRootKey(rootKey);

    const duplicate = { ...aRootKey(workspace.id), hash: rootKey.hash };

    await assert.rejects(store().insertRootKey(duplicate), (error) => {
      return !(error instanceof StoreUnavailableError);
    });
    assert.equal(await store().getRootKey(workspace.id, duplicate.id), undefined);
  });
});

describeEachStore('apis', (store) => {
  it('reads back an API within its workspace only', async () => {
    const api = await aWorkspaceWithApi(store());

    assert.deepEqual(await store().getApi(api.workspaceId, api.id), api);
    assert.equal(await store().getApi('ws_other', api.id), undefined);
  });

  it('lists APIs page by page in id order', async () => {
    const first = await aWorkspaceWithApi(store());
    const second = anApi(first.workspaceId);
    await store().insertApi(second);

    const page1 = await store().listApis(first.workspaceId, { limit: 1 });
    const page2 = await store().listApis(first.workspaceId, {
      limit: 1,
      after: page1.nextAfter ?? '',
    });
    const whole = await store().listApis(first.workspaceId, { limit: 2 });

    assert.deepEqual(page1, { items: [first], nextAfter: first.id });
    assert.deepEqual(page2, { items: [second], nextAfter: null });
    assert.deepEqual(whole, { items: [first, second], nextAfter: null });
  });

  it('deletes an API with its keys and returns their hashes', async () => {
    const api = await aWorkspaceWithApi(store());
    const keys = [aKey(api), aKey(api)];
    await insertKeys(store(), keys);

    const hashes = await store().deleteApi(api.workspaceId, api.id);

    assert.deepEqual(hashes?.sort(), keys.map((key) => key.hash).sort());
    assert.equal(await store().getApi(api.workspaceId, api.id), undefined);
    assert.equal(await store().findKeyByHash(keys[0]?.hash ?? ''), undefined);
    assert.equal(await store().deleteApi(api.workspaceId, api.id), undefined);
  });

  it('leaves an API of another workspace in place', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aKey(api);
    await store().insertKey(key);

    assert.equal(await store().deleteApi('ws_other', api.id), undefined);

    assert.deepEqual(await store().getApi(api.workspaceId, api.id), api);
    assert.deepEqual(await store().getKey(api.workspaceId, key.id), key);
  });

  it('deletes an API without keys, returning no hashes', async () => {
    const api = await aWorkspaceWithApi(store());

    assert.deepEqual(await store().deleteApi(api.workspaceId, api.id), []);
  });
});

describeEachStore('keys', (store) => {
  it('reads back a key with every field set, by id and by hash', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aFullKey(api);

    await store().insertKey(key);

    assert.deepEqual(await store().getKey(api.workspaceId, key.id), key);
    assert.deepEqual(await store().findKeyByHash(key.hash), key);
  });

  it('reads back a key with every optional field empty', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aKey(api);

    await store().insertKey(key);

    assert.deepEqual(await store().getKey(api.workspaceId, key.id), key);
  });

  it('finds no key of another workspace, and none for an unknown hash', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aKey(api);
    await store().insertKey(key);

    const other = await aWorkspaceWithApi(store());

    assert.equal(await store().getKey(other.workspaceId, key.id), undefined);
    assert.equal(await store().findKeyByHash(randomHash()), undefined);
  });

  it('rejects a key whose API belongs to another workspace', async () => {
    const api = await aWorkspaceWithApi(store());
    const other = await aWorkspaceWithApi(store());

    const key = aKey(api, { workspaceId: other.workspaceId });

    await assert.rejects(store().insertKey(key));
    assert.equal(await store().findKeyByHash(key.hash), undefined);
  });

  it('rejects a second key with the same hash', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aKey(api);
    await store().insertKey(key);

    const duplicate = aKey(api, { hash: key.hash });

    await assert.rejects(store().insertKey(duplicate), (error) => {
      return !(error instanceof StoreUnavailableError);
    });
    assert.equal(await store().getKey(api.workspaceId, duplicate.id), undefined);
  });

  it("lists an API's keys page by page in id order", async () => {
    const api = await aWorkspaceWithApi(store());
    const otherApi = anApi(api.workspaceId);
    await store().insertApi(otherApi);
    const keys = [aKey(api), aKey(otherApi), aKey(api), aKey(api), aKey(api)];
    await insertKeys(store(), keys);
    const own = keys.filter((key) => key.apiId === api.id);

    const page1 = await store().listKeys(api.workspaceId, api.id, {}, { limit: 3 });
    const after = page1.nextAfter ?? '';
    const page2 = await store().listKeys(api.workspaceId, api.id, {}, { limit: 3, after });

    assert.deepEqual(page1, { items: own.slice(0, 3), nextAfter: own[2]?.id });
    assert.deepEqual(page2, { items: own.slice(3), nextAfter: null });
  });

  it('lists only the keys of one external id', async () => {
    const api = await aWorkspaceWithApi(store());
    const keys = [
      aKey(api, { externalId: 'alice' }),
      aKey(api, { externalId: 'bob' }),
      aKey(api, { externalId: 'alice' }),
      aKey(api),
      aKey(api, { externalId: 'alice' }),
    ];
    await insertKeys(store(), keys);
    const alices = keys.filter((key) => key.externalId === 'alice');

    const filter = { externalId: 'alice' };
    const page1 = await store().listKeys(api.workspaceId, api.id, filter, { limit: 2 });
    const after = page1.nextAfter ?? '';
    const page2 = await store().listKeys(api.workspaceId, api.id, filter, { limit: 2, after });

    assert.deepEqual(ids(page1.items), ids(alices.slice(0, 2)));
    assert.deepEqual(ids(page2.items), ids(alices.slice(2)));
    assert.equal(page2.nextAfter, null);
  });

  it('lists nothing for an API of another workspace', async () => {
    const api = await aWorkspaceWithApi(store());
    await store().insertKey(aKey(api));

    const page = await store().listKeys('ws_other', api.id, {}, { limit: 10 });

    assert.deepEqual(page, { items: [], nextAfter: null });
  });

  it('orders ids by their bytes, whatever the database collation', async () => {
    const api = await aWorkspaceWithApi(store());
    const suffix = randomBytes(4).toString('hex');
    const keys = ['a', 'B', 'c', 'D'].map((letter) => aKey(api, { id: `key_${suffix}${letter}` }));
    await insertKeys(store(), keys);

    const page = await store().listKeys(api.workspaceId, api.id, {}, { limit: 10 });

    assert.deepEqual(
      ids(page.items),
      ['B', 'D', 'a', 'c'].map((letter) => `key_${suffix}${letter}`),
    );
  });
});

describeEachStore('key updates', (store) => {
  it('changes only the fields in the patch', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aFullKey(api);
    await store().insertKey(key);

    const patch = { name: 'Renamed', enabled: true, updatedAt: key.updatedAt + 1 };
    const updated = await store().updateKey(api.workspaceId, key.id, patch);

    assert.deepEqual(updated, { ...key, ...patch });
    assert.deepEqual(await store().getKey(api.workspaceId, key.id), updated);
  });

  it('clears the fields patched with null', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aFullKey(api);
    await store().insertKey(key);

    const patch = { name: null, externalId: null, meta: null, expiresAt: null };
    const updated = await store().updateKey(api.workspaceId, key.id, patch);

    assert.deepEqual(updated, { ...key, ...patch });
    assert.deepEqual(await store().getKey(api.workspaceId, key.id), updated);
  });

  it('sets JSON fields, timestamps and booleans', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aKey(api);
    await store().insertKey(key);

    const patch = {
      meta: { tier: 'gold' },
      permissions: ['a.b'],
      ratelimits: [{ name: 'rps', limit: 1, duration: 1000 }],
      enabled: false,
      lastUsedAt: 1_700_000_000_123,
      revokedAt: 1_700_000_000_456,
    };
    const updated = await store().updateKey(api.workspaceId, key.id, patch);

    assert.deepEqual(updated, { ...key, ...patch });
  });

  it('returns the key unchanged for an empty patch', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aKey(api);
    await store().insertKey(key);

    assert.deepEqual(await store().updateKey(api.workspaceId, key.id, {}), key);
    assert.deepEqual(await store().updateKey(api.workspaceId, key.id, { name: undefined }), key);
  });

  it('updates no key of another workspace, and no missing key', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aKey(api);
    await store().insertKey(key);

    assert.equal(await store().updateKey('ws_other', key.id, { name: 'x' }), undefined);
    assert.equal(await store().updateKey(api.workspaceId, 'key_missing', { name: 'x' }), undefined);
    assert.equal(await store().updateKey('ws_other', key.id, {}), undefined);
    assert.deepEqual(await store().getKey(api.workspaceId, key.id), key);
  });

  it('erases a key once, returning it', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aFullKey(api);
    await store().insertKey(key);

    assert.equal(await store().deleteKey('ws_other', key.id), undefined);
    assert.deepEqual(await store().deleteKey(api.workspaceId, key.id), key);
    assert.equal(await store().deleteKey(api.workspaceId, key.id), undefined);
    assert.equal(await store().findKeyByHash(key.hash), undefined);
  });
});

describeEachStore('audit events', (store) => {
  it('reads back events with and without details', async () => {
    const workspace = aWorkspace();
    await store().insertWorkspace(workspace);
    const bare = anAuditEvent(workspace.id);
    const full = anAuditEvent(workspace.id, {
      ip: '2001:db8::1',
      userAgent: 'curl/8.5.0',
      changes: { name: { from: 'a', to: 'b' }, enabled: false },
    });

    await store().insertAuditEvent(bare);
    await store().insertAuditEvent(full);

    const page = await store().listAuditEvents(workspace.id, {}, { limit: 10 });
    assert.deepEqual(page, { items: [full, bare], nextAfter: null });
  });

  it('lists events newest first, page by page', async () => {
    const workspace = aWorkspace();
    await store().insertWorkspace(workspace);
    const events = [1, 2, 3, 4, 5].map(() => anAuditEvent(workspace.id));
    for (const event of events) await store().insertAuditEvent(event);
    const newestFirst = [...events].reverse();

    const page1 = await store().listAuditEvents(workspace.id, {}, { limit: 2 });
    const page2 = await store().listAuditEvents(
      workspace.id,
      {},
      { limit: 2, after: page1.nextAfter ?? '' },
    );
    const page3 = await store().listAuditEvents(
      workspace.id,
      {},
      { limit: 2, after: page2.nextAfter ?? '' },
    );

    assert.deepEqual(page1, { items: newestFirst.slice(0, 2), nextAfter: newestFirst[1]?.id });
    assert.deepEqual(page2, { items: newestFirst.slice(2, 4), nextAfter: newestFirst[3]?.id });
    assert.deepEqual(page3, { items: newestFirst.slice(4), nextAfter: null });
  });

  it('filters events by action and by target', async () => {
    const workspace = aWorkspace();
    await store().insertWorkspace(workspace);
    const events = [
      anAuditEvent(workspace.id, { action: 'key.create', targetId: 'key_1' }),
      anAuditEvent(workspace.id, { action: 'key.update', targetId: 'key_1' }),
      anAuditEvent(workspace.id, { action: 'key.create', targetId: 'key_2' }),
      anAuditEvent(workspace.id, { action: 'key.create', targetId: 'key_1' }),
    ];
    for (const event of events) await store().insertAuditEvent(event);

    const created = await store().listAuditEvents(
      workspace.id,
      { action: 'key.create' },
      { limit: 2 },
    );
    const after = created.nextAfter ?? '';
    const rest = await store().listAuditEvents(
      workspace.id,
      { action: 'key.create' },
      { limit: 2, after },
    );
    const both = { action: 'key.create', targetId: 'key_1' };
    const ofKey1 = await store().listAuditEvents(workspace.id, both, { limit: 10 });

    assert.deepEqual(ids(created.items), ids([events[3], events[2]] as AuditEventRecord[]));
    assert.deepEqual(ids(rest.items), ids([events[0]] as AuditEventRecord[]));
    assert.deepEqual(ids(ofKey1.items), ids([events[3], events[0]] as AuditEventRecord[]));
  });

  it('lists no events of another workspace', async () => {
    const workspace = aWorkspace();
    await store().insertWorkspace(workspace);
    await store().insertAuditEvent(anAuditEvent(workspace.id));

    const page = await store().listAuditEvents('ws_other', {}, { limit: 10 });

    assert.deepEqual(page, { items: [], nextAfter: null });
  });
});

describeEachStore('transactions', (store) => {
  it('commits every write of the work and returns its result', async () => {
    const workspace = aWorkspace();
    const api = anApi(workspace.id);

    const result = await store().transaction(async (tx) => {
      await tx.insertWorkspace(workspace);
      await tx.insertApi(api);
      return tx.getApi(workspace.id, api.id);
    });

    assert.deepEqual(result, api);
    assert.deepEqual(await store().getApi(workspace.id, api.id), api);
  });

  it('rolls back every write when the work throws, passing the error on', async () => {
    const workspace = aWorkspace();
    const failure = new Error('the work failed');

    const attempt = store().transaction(async (tx) => {
      await tx.insertWorkspace(workspace);
      await tx.insertAuditEvent(anAuditEvent(workspace.id));
      throw failure;
    });

    await assert.rejects(attempt, (error) => error === failure);
    assert.equal(await store().getWorkspace(workspace.id), undefined);
  });

  it('rolls back the earlier writes when a later one violates a constraint', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aKey(api);
    await store().insertKey(key);
    const fresh = aKey(api);

    const attempt = store().transaction(async (tx) => {
      await tx.insertKey(fresh);
      await tx.insertKey(aKey(api, { hash: key.hash }));
    });

    await assert.rejects(attempt);
    assert.equal(await store().getKey(api.workspaceId, fresh.id), undefined);
  });

  it('deletes an API with its keys inside a transaction', async () => {
    const api = await aWorkspaceWithApi(store());
    const key = aKey(api);
    await store().insertKey(key);

    const hashes = await store().transaction((tx) => tx.deleteApi(api.workspaceId, api.id));

    assert.deepEqual(hashes, [key.hash]);
    assert.equal(await store().getKey(api.workspaceId, key.id), undefined);
  });
});

describeEachStore('migrations and health', (store) => {
  it('migrates again without changing anything', async () => {
    const api = await aWorkspaceWithApi(store());

    await store().migrate();
    await store().migrate();

    assert.deepEqual(await store().getApi(api.workspaceId, api.id), api);
  });

  it('answers a ping', async () => {
    await store().ping();
  });
});

/** An address where no PostgreSQL listens. */
const unreachablePostgresUrl = 'postgres://postgres@127.0.0.1:1/keygate';

for (const kind of storeKinds) {
  describe(`unavailable databases on ${kind}`, () => {
    it('reports a database it cannot reach as unavailable', async () => {
      const directory = await createTestDirectory();

      try {
        await assert.rejects(openUnreachable(kind, directory), StoreUnavailableError);
      } finally {
        await removeTestDirectory(directory);
      }
    });

    it('reports queries on a closed store as unavailable', async () => {
      const store = await openTestStore(kind);
      await store.close();

      await assert.rejects(store.getWorkspace('ws_1'), StoreUnavailableError);
      await assert.rejects(store.ping(), StoreUnavailableError);
    });
  });
}

/** Opens SQLite below a path that is a file, or queries PostgreSQL where none listens. */
async function openUnreachable(kind: StoreKind, directory: string): Promise<void> {
  if (kind === 'sqlite') {
    const file = join(directory, 'not-a-directory');
    await writeFile(file, '');
    await openSqliteStore(join(file, 'keygate.db'));
    return;
  }

  const store = await openPostgresStore(unreachablePostgresUrl);
  try {
    await assert.rejects(store.migrate(), StoreUnavailableError);
    await assert.rejects(store.getWorkspace('ws_1'), StoreUnavailableError);
    await store.ping();
  } finally {
    await store.close();
  }
}
