import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.ts';
import { storeKinds } from '../support/databases.ts';
import {
  type Answer,
  allCases,
  assertProblem,
  bodyOf,
  type Case,
  createFixture,
  describeAnswer,
  type Fixture,
  send,
  valueAt,
} from './corpus.ts';

/** The id of the workspace's newest audit event; every mutation writes one. */
async function newestAuditEvent(t: TestApp): Promise<string | undefined> {
  const page = await t.request({ method: 'GET', url: '/v1/audit?limit=1' });
  assert.equal(page.status, 200);
  return page.body.items[0]?.id;
}

/** Asserts that a 2xx stored what was sent (or what the case says it must store). */
async function assertStored(t: TestApp, fixture: Fixture, c: Case, answer: Answer) {
  assert.ok(
    answer.status >= 200 && answer.status < 300,
    `expected 2xx, got ${describeAnswer(answer)}`,
  );
  const expect = c.expect;
  if (expect.kind === 'refused') return;

  if (expect.answer) {
    for (const [name, value] of Object.entries(expect.answer)) {
      assert.deepEqual(bodyOf(answer)[name], value, `answer.${name} of ${describeAnswer(answer)}`);
    }
  }
  if (!c.readBack || expect.field === undefined) return;

  const record = await c.readBack(t, fixture, bodyOf(answer));
  const wanted = expect.stored !== undefined ? expect.stored : c.sent;
  assert.deepEqual(valueAt(record, expect.field), wanted, `${expect.field} read back differently`);
}

/** Sends one case and judges the answer, reporting its status first for the final sweep. */
async function judge(t: TestApp, fixture: Fixture, c: Case, answered: (a: Answer) => void) {
  const probe = c.probe(fixture);
  const mutating = probe.method !== 'GET';
  const auditBefore = mutating ? await newestAuditEvent(t) : undefined;
  const answer = await send(t, probe);
  answered(answer);

  const refusedAs = async (statuses: readonly number[], field: string | undefined) => {
    assertProblem(answer, statuses, field);
    if (mutating) {
      assert.equal(
        await newestAuditEvent(t),
        auditBefore,
        'a refused request wrote an audit event',
      );
    }
  };
  const { expect } = c;
  if (expect.kind === 'refused') await refusedAs(expect.status, expect.field);
  else if (expect.kind === 'either' && answer.status === 400) await refusedAs([400], expect.field);
  else await assertStored(t, fixture, c, answer);
}

for (const kind of storeKinds) {
  describe(`hostile input on ${kind}`, () => {
    let t: TestApp;
    let fixture: Fixture;
    /** What each case answered, by the test clock's time when it ran. */
    const ranAt = new Map<number, { label: string; status: number; bug?: string }>();

    before(async () => {
      t = await startTestApp(kind);
      fixture = await createFixture(t);
    });

    after(() => t?.close());

    for (const c of allCases()) {
      const label = `${c.route} — ${c.name}`;
      it(label, async () => {
        // Each case runs at its own time, so records and audit events tell which case made them.
        t.clock.advance(1000);
        const at = t.clock();
        await judge(t, fixture, c, (answer) => {
          ranAt.set(at, { label, status: answer.status });
        });
      });
    }

    it('keeps no record or audit event made by a refused request', async () => {
      const made = [
        ...(await listAll(t, `/v1/apis/${fixture.apiId}/keys`)),
        ...(await listAll(t, '/v1/apis')),
        ...(await listAll(t, '/v1/root-keys')),
        ...(await listAll(t, '/v1/audit')),
      ];
      const leftovers = made.flatMap((record) => {
        const ran = ranAt.get(Date.parse(record.createdAt));
        if (!ran || ran.bug || (ran.status >= 200 && ran.status < 300)) return [];
        return [`${record.id} by "${ran.label}" (${ran.status})`];
      });
      assert.deepEqual(leftovers, []);
    });
  });
}

/** Every record of a list, page by page. */
async function listAll(t: TestApp, url: string): Promise<{ id: string; createdAt: string }[]> {
  const items: { id: string; createdAt: string }[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '?limit=100' : `?limit=100&cursor=${cursor}`;
    const page = await t.request({ method: 'GET', url: `${url}${query}` });
    assert.equal(page.status, 200, `${url}: ${page.text}`);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  return items;
}
