import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createPepper } from '../../src/core/hashing.ts';
import { MemoryCounters } from '../../src/counters/memory/memory-counters.ts';
import { createKeygate } from '../../src/services/keygate.ts';
import type { Store } from '../../src/store/types.ts';
import { TEST_PEPPER } from '../support/app.ts';
import { describeEachStore } from '../support/databases.ts';

/** The store, whose next `times` credit writes fail as they would with the database gone. */
function chargesFailingFor(store: Store, times: number): Store {
  let failures = times;
  return {
    ...store,
    applyCreditCharges(charges) {
      if (failures === 0) return store.applyCreditCharges(charges);
      failures -= 1;
      return Promise.reject(new Error('the store went away'));
    },
  };
}

describeEachStore('credit charges that cannot be made durable', (store) => {
  it('fail every verification written with them and take nothing from the balance', async () => {
    const keygate = createKeygate({
      store: chargesFailingFor(store(), 1),
      counters: new MemoryCounters(),
      pepper: createPepper(TEST_PEPPER),
    });
    const boot = await keygate.workspaces.bootstrap(undefined);
    if (boot.kind !== 'created') throw new Error('a fresh test store was not empty');
    const actor = await keygate.rootKeys.authenticate(boot.rootKey, { ip: null, userAgent: null });
    assert.ok(actor);
    const api = await keygate.apis.create(actor, { name: 'payments' });
    const created = await keygate.keys.create(actor, api.id, { credits: { remaining: 10 } });
    const verify = () => Promise.resolve(keygate.verifier.verify(actor, { key: created.key }));

    // Verified together, the five charges go to the store in one write, which fails.
    const together = await Promise.allSettled(Array.from({ length: 5 }, verify));

    assert.deepEqual(
      together.map((settled) => settled.status === 'rejected' && String(settled.reason)),
      Array(5).fill('Error: the store went away'),
    );
    const next = await verify();
    assert.equal(next.code, 'VALID');
    assert.equal(next.creditsRemaining, 9, 'the failed charges were given back');
    const balanceId = created.record.creditBalanceId ?? '';
    assert.equal((await store().getCreditBalance(actor.workspaceId, balanceId))?.remaining, 9);
    await keygate.close();
  });
});
