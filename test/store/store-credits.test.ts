import assert from 'node:assert/strict';
import { it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { newId } from '../../src/core/ids.ts';
import { createKyselyStore } from '../../src/store/kysely-store.ts';
import { createMigrationProvider } from '../../src/store/migrations.ts';
import type { Database } from '../../src/store/schema.ts';
import type {
  CreditBalanceRecord,
  IdentityRecord,
  RateLimitOverrideRecord,
  Store,
} from '../../src/store/types.ts';
import { describeEachStore } from '../support/databases.ts';
import { keyRecord } from '../support/records.ts';

let clock = Date.UTC(2025, 0, 1);
const tick = () => {
  clock += 1;
  return clock;
};

async function aWorkspace(store: Store): Promise<string> {
  const id = newId('ws', tick());
  await store.insertWorkspace({ id, name: 'Acme', createdAt: clock });
  return id;
}

function aBalance(workspaceId: string, fields: Partial<CreditBalanceRecord> = {}) {
  const record: CreditBalanceRecord = {
    id: newId('bal', tick()),
    workspaceId,
    remaining: 100,
    refill: null,
    refilledAt: clock,
    version: 1,
    createdAt: clock,
    updatedAt: clock,
    ...fields,
  };
  return record;
}

async function aKeyOn(store: Store, workspaceId: string, creditBalanceId: string | null) {
  const apiId = newId('api', tick());
  await store.insertApi({
    id: apiId,
    workspaceId,
    name: 'payments',
    prefix: 'kg',
    createdAt: clock,
  });
  const id = newId('key', tick());
  const key = keyRecord({ id, workspaceId, apiId, createdAt: clock, creditBalanceId });
  await store.insertKey(key);
  return key;
}

describeEachStore('credit balances', (store) => {
  it('reads back a balance within its workspace only', async () => {
    const workspaceId = await aWorkspace(store());
    const balance = aBalance(workspaceId, { refill: { interval: 'monthly', amount: 5, day: 31 } });

    await store().insertCreditBalance(balance);

    assert.deepEqual(await store().getCreditBalance(workspaceId, balance.id), balance);
    assert.equal(await store().getCreditBalance('ws_other', balance.id), undefined);
  });

  it('shows a key the balance it draws on, and none when it has none', async () => {
    const workspaceId = await aWorkspace(store());
    const balance = aBalance(workspaceId, {
      remaining: 42,
      refill: { interval: 'daily', amount: 50 },
    });
    await store().insertCreditBalance(balance);

    const withCredits = await aKeyOn(store(), workspaceId, balance.id);
    const without = await aKeyOn(store(), workspaceId, null);

    const read = await store().findKeyByHash(withCredits.hash);
    assert.deepEqual(read?.credits, {
      remaining: 42,
      refill: { interval: 'daily', amount: 50 },
      refilledAt: balance.refilledAt,
    });
    assert.equal((await store().getKey(workspaceId, without.id))?.credits, null);
  });

  it('bumps the version on every change by hand', async () => {
    const workspaceId = await aWorkspace(store());
    const balance = aBalance(workspaceId);
    await store().insertCreditBalance(balance);

    const patch = { remaining: 7, refill: null, refilledAt: clock + 5, updatedAt: clock + 5 };
    const updated = await store().updateCreditBalance(workspaceId, balance.id, patch);

    assert.deepEqual(updated, { ...balance, ...patch, version: 2 });
    assert.equal(await store().updateCreditBalance('ws_other', balance.id, patch), undefined);
  });

  it('applies charges, stopping at 0, and leaves the version alone', async () => {
    const workspaceId = await aWorkspace(store());
    const a = aBalance(workspaceId, { remaining: 10 });
    const b = aBalance(workspaceId, { remaining: 3 });
    await store().insertCreditBalance(a);
    await store().insertCreditBalance(b);

    await store().applyCreditCharges([
      { balanceId: a.id, cost: 4, refill: null },
      { balanceId: b.id, cost: 5, refill: null },
      { balanceId: 'bal_missing', cost: 1, refill: null },
    ]);

    assert.deepEqual(await store().getCreditBalance(workspaceId, a.id), { ...a, remaining: 6 });
    assert.deepEqual(await store().getCreditBalance(workspaceId, b.id), { ...b, remaining: 0 });
  });

  it('refills before charging when a refill time has passed, once', async () => {
    const workspaceId = await aWorkspace(store());
    const refill = { interval: 'daily' as const, amount: 50 };
    const balance = aBalance(workspaceId, { remaining: 2, refill, refilledAt: 1000 });
    await store().insertCreditBalance(balance);

    await store().applyCreditCharges([
      { balanceId: balance.id, cost: 5, refill: { at: 2000, amount: 50 } },
    ]);
    await store().applyCreditCharges([
      { balanceId: balance.id, cost: 5, refill: { at: 2000, amount: 50 } },
    ]);

    const read = await store().getCreditBalance(workspaceId, balance.id);
    assert.equal(read?.remaining, 40);
    assert.equal(read?.refilledAt, 2000);
  });

  it("charges a balance again and again, refilling or not, with each charge's values", async () => {
    const workspaceId = await aWorkspace(store());
    const refill = { interval: 'daily' as const, amount: 5 };
    const plain = aBalance(workspaceId, { remaining: 100 });
    const refilling = aBalance(workspaceId, { remaining: 1, refill, refilledAt: 1000 });
    await store().insertCreditBalance(plain);
    await store().insertCreditBalance(refilling);

    for (const cost of [1, 2, 3]) {
      await store().applyCreditCharges([{ balanceId: plain.id, cost, refill: null }]);
    }
    await store().applyCreditCharges([
      { balanceId: refilling.id, cost: 7, refill: { at: 3000, amount: 5 } },
    ]);

    assert.equal((await store().getCreditBalance(workspaceId, plain.id))?.remaining, 94);
    const refilled = await store().getCreditBalance(workspaceId, refilling.id);
    assert.equal(refilled?.remaining, 0, 'a first charge above the refill amount stops at 0');
    assert.equal(refilled?.refilledAt, 3000);
  });
});

function anIdentity(workspaceId: string, fields: Partial<IdentityRecord> = {}): IdentityRecord {
  return {
    id: newId('idt', tick()),
    workspaceId,
    externalId: `customer_${clock}`,
    meta: null,
    ratelimits: [],
    creditBalanceId: null,
    credits: null,
    createdAt: clock,
    updatedAt: clock,
    ...fields,
  };
}

describeEachStore('identities', (store) => {
  it('reads back an identity by external id within its workspace only', async () => {
    const workspaceId = await aWorkspace(store());
    const identity = anIdentity(workspaceId, {
      meta: { plan: 'pro' },
      ratelimits: [{ name: 'requests', limit: 10, duration: 1000 }],
    });

    await store().insertIdentity(identity);

    assert.deepEqual(await store().getIdentity(workspaceId, identity.externalId), identity);
    assert.equal(await store().getIdentity('ws_other', identity.externalId), undefined);
  });

  it('rejects a second identity with the same external id in one workspace', async () => {
    const workspaceId = await aWorkspace(store());
    const identity = anIdentity(workspaceId);
    await store().insertIdentity(identity);

    await assert.rejects(store().insertIdentity({ ...identity, id: newId('idt', tick()) }), {
      name: 'StoreConflictError',
    });
  });

  it('updates, lists page by page and deletes', async () => {
    const workspaceId = await aWorkspace(store());
    const identities = [anIdentity(workspaceId), anIdentity(workspaceId), anIdentity(workspaceId)];
    for (const identity of identities) await store().insertIdentity(identity);
    const balance = aBalance(workspaceId, { remaining: 9 });
    await store().insertCreditBalance(balance);
    const [first] = identities as [IdentityRecord];

    const updated = await store().updateIdentity(workspaceId, first.externalId, {
      meta: { a: 1 },
      creditBalanceId: balance.id,
      updatedAt: clock + 1,
    });
    const page = await store().listIdentities(workspaceId, { limit: 2 });
    const deleted = await store().deleteIdentity(workspaceId, first.externalId);

    assert.deepEqual(updated?.credits, { remaining: 9, refilledAt: balance.refilledAt });
    assert.deepEqual(updated?.meta, { a: 1 });
    assert.deepEqual(
      page.items.map((identity) => identity.id),
      identities.slice(0, 2).map((i) => i.id),
    );
    assert.equal(page.nextAfter, identities[1]?.id);
    assert.deepEqual(deleted, updated);
    assert.equal(await store().getIdentity(workspaceId, first.externalId), undefined);
  });
});

function anOverride(workspaceId: string, identifier: string): RateLimitOverrideRecord {
  return {
    id: newId('rlo', tick()),
    workspaceId,
    namespace: 'logins',
    identifier,
    limit: 5,
    duration: 60_000,
    createdAt: clock,
    updatedAt: clock,
  };
}

describeEachStore('rate-limit overrides', (store) => {
  it('replaces an override of the same identifier, keeping its id', async () => {
    const workspaceId = await aWorkspace(store());
    const first = await store().putOverride(anOverride(workspaceId, 'user_1'));

    const second = await store().putOverride({
      ...anOverride(workspaceId, 'user_1'),
      limit: 0,
      updatedAt: clock + 9,
    });

    assert.equal(second.id, first.id);
    assert.equal(second.limit, 0);
    assert.equal(second.updatedAt, clock + 9);
    assert.deepEqual(await store().getOverride(workspaceId, 'logins', 'user_1'), second);
  });

  it('lists only the patterns of a namespace, and deletes once', async () => {
    const workspaceId = await aWorkspace(store());
    await store().putOverride(anOverride(workspaceId, 'user_1'));
    const pattern = await store().putOverride(anOverride(workspaceId, 'user_*'));

    assert.deepEqual(await store().listOverridePatterns(workspaceId, 'logins'), [pattern]);
    assert.deepEqual(await store().listOverridePatterns(workspaceId, 'signups'), []);
    assert.deepEqual(await store().deleteOverride(workspaceId, 'logins', 'user_*'), pattern);
    assert.equal(await store().deleteOverride(workspaceId, 'logins', 'user_*'), undefined);
  });
});

it('moves the credits of keys made before balances existed into balances', async () => {
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }),
  });
  const migrator = new Migrator({ db, provider: createMigrationProvider('sqlite') });
  await migrator.migrateTo('0001_initial_schema');
  await db
    .insertInto('workspaces' as never)
    .values({ id: 'ws_1', name: 'w', created_at: 1 } as never)
    .execute();
  await db
    .insertInto('apis' as never)
    .values({ id: 'api_1', workspace_id: 'ws_1', name: 'a', prefix: 'kg', created_at: 1 } as never)
    .execute();
  const legacyKey = {
    workspace_id: 'ws_1',
    api_id: 'api_1',
    pepper_version: 1,
    start: 'kg_AbCd',
    permissions: '[]',
    enabled: 1,
    ratelimits: '[]',
    created_at: 5,
    updated_at: 5,
  };
  await db
    .insertInto('keys' as never)
    .values([
      {
        ...legacyKey,
        id: 'key_1',
        hash: 'h1',
        credits: JSON.stringify({ remaining: 7, refill: { interval: 'daily', amount: 9 } }),
      },
      { ...legacyKey, id: 'key_2', hash: 'h2', credits: null },
    ] as never)
    .execute();

  const store = createKyselyStore(db, 'sqlite');
  await store.migrate();

  const withCredits = await store.getKey('ws_1', 'key_1');
  assert.deepEqual(withCredits?.credits, {
    remaining: 7,
    refill: { interval: 'daily', amount: 9 },
    refilledAt: 5,
  });
  assert.equal(withCredits?.lineageId, 'key_1');
  assert.equal((await store.getKey('ws_1', 'key_2'))?.credits, null);
  await store.close();
});
