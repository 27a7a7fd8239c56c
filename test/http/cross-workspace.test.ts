import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.ts';
import { storeKinds } from '../support/databases.ts';
import { type Answer, assertProblem, bodyOf, type Method, send } from './corpus.ts';

/** Words that appear only in workspace A's records, so a leak of them is easy to spot. */
const A_MARKERS = [
  'alpha-api',
  'alpha-key-name',
  'alpha-owner-meta',
  'alpha-robot',
  'alpha-identity-meta',
];

interface Workspace {
  rootKey: string;
  rootKeyIds: string[];
  apiId: string;
  keyId: string;
  key: string;
  /** A second key, which the probes try to revoke, erase and roll. */
  targetKeyId: string;
  /** An identity of this workspace alone, and a key drawing on a name both workspaces use. */
  externalId: string;
  sharedNameKey: string;
  sharedNameKeyId: string;
}

async function created(t: TestApp, rootKey: string, url: string, body: unknown) {
  const answer = await t.request({ method: 'POST', url, body, rootKey });
  assert.equal(answer.status, 201, `${url}: ${answer.text}`);
  return answer.body as { id: string; key: string; rootKey: string };
}

/** An API with two keys, a second root key and the audit events all of that made. */
async function populate(t: TestApp, rootKey: string, word: string): Promise<Workspace> {
  await created(t, rootKey, '/v1/root-keys', {
    name: `${word}-robot`,
    permissions: ['api.*.verify_key'],
  });
  const api = await created(t, rootKey, '/v1/apis', { name: `${word}-api`, prefix: word });
  const keys = `/v1/apis/${api.id}/keys`;
  const key = await created(t, rootKey, keys, {
    name: `${word}-key-name`,
    externalId: 'customer-1',
    meta: { owner: `${word}-owner-meta` },
    permissions: ['read'],
    credits: { remaining: 10 },
  });
  const target = await created(t, rootKey, keys, { name: `${word}-key-name`, externalId: 'c2' });
  const externalId = `${word}-customer`;
  await created(t, rootKey, '/v1/identities', {
    externalId,
    meta: { note: `${word}-identity-meta` },
    credits: { remaining: 5 },
  });
  await created(t, rootKey, '/v1/identities', {
    externalId: 'same-name',
    credits: { remaining: 1 },
  });
  const sharedName = await created(t, rootKey, keys, { externalId: 'same-name' });
  const override = await t.request({
    method: 'PUT',
    url: `/v1/ratelimits/logins/overrides/${word}-caller`,
    body: { limit: 0, duration: 60_000 },
    rootKey,
  });
  assert.equal(override.status, 200, override.text);

  const rootKeys = await t.request({ method: 'GET', url: '/v1/root-keys', rootKey });
  return {
    rootKey,
    rootKeyIds: rootKeys.body.items.map((item: { id: string }) => item.id),
    apiId: api.id,
    keyId: key.id,
    key: key.key,
    targetKeyId: target.id,
    externalId,
    sharedNameKey: sharedName.key,
    sharedNameKeyId: sharedName.id,
  };
}

/** Everything workspace A's root key can see of A, to compare before and after the probes. */
/** A's records as its own root key reads them. `lastUsedAt` is left out: A's own verifications
 * in these tests move it. */
async function snapshot(t: TestApp, a: Workspace) {
  const get = async (url: string) => {
    const answer = await t.request({ method: 'GET', url, rootKey: a.rootKey });
    assert.equal(answer.status, 200, `${url}: ${answer.text}`);
    return JSON.parse(answer.text, (field, value) => (field === 'lastUsedAt' ? undefined : value));
  };
  return {
    api: await get(`/v1/apis/${a.apiId}`),
    key: await get(`/v1/keys/${a.keyId}`),
    target: await get(`/v1/keys/${a.targetKeyId}`),
    keys: await get(`/v1/apis/${a.apiId}/keys?limit=100`),
    apis: await get('/v1/apis?limit=100'),
    rootKeys: await get('/v1/root-keys?limit=100'),
    identity: await get(`/v1/identities/${a.externalId}`),
    override: await get('/v1/ratelimits/logins/overrides/alpha-caller'),
    audit: await get('/v1/audit?limit=100'),
  };
}

/** Sends a JSON request with the given root key. */
function sendAs(t: TestApp, rootKey: string, method: Method, url: string, body?: unknown) {
  const payload = body === undefined ? {} : { payload: JSON.stringify(body) };
  return send(t, { method, url, ...payload }, rootKey);
}

/** Asserts a 404 problem that shows nothing of A's records. */
function assertHidden(answer: Answer): void {
  assertProblem(answer, [404]);
  for (const marker of A_MARKERS) assert.ok(!answer.text.includes(marker), answer.text);
}

for (const kind of storeKinds) {
  describe(`one workspace's root key against another's records on ${kind}`, () => {
    let t: TestApp;
    let a: Workspace;
    let b: Workspace;
    let untouched: Awaited<ReturnType<typeof snapshot>>;

    before(async () => {
      t = await startTestApp(kind);
      a = await populate(t, t.rootKey, 'alpha');
      const workspace = await created(t, t.rootKey, '/v1/workspaces', { name: 'beta' });
      b = await populate(t, workspace.rootKey, 'beta');
      untouched = await snapshot(t, a);
    });

    after(() => t?.close());

    const asB = (method: Method, url: string, body?: unknown) =>
      sendAs(t, b.rootKey, method, url, body);

    /** Every route that names a record, aimed at A's records. */
    const probes: [string, () => Promise<Answer>][] = [
      ['reads the API', () => asB('GET', `/v1/apis/${a.apiId}`)],
      ['deletes the API', () => asB('DELETE', `/v1/apis/${a.apiId}`)],
      ['creates a key in the API', () => asB('POST', `/v1/apis/${a.apiId}/keys`, { name: 'x' })],
      ['lists the keys of the API', () => asB('GET', `/v1/apis/${a.apiId}/keys`)],
      [
        'lists the keys of the API by externalId',
        () => asB('GET', `/v1/apis/${a.apiId}/keys?externalId=customer-1`),
      ],
      ['reads a key', () => asB('GET', `/v1/keys/${a.keyId}`)],
      ['updates a key', () => asB('PATCH', `/v1/keys/${a.targetKeyId}`, { enabled: false })],
      ['revokes a key', () => asB('DELETE', `/v1/keys/${a.targetKeyId}`)],
      ['erases a key', () => asB('DELETE', `/v1/keys/${a.targetKeyId}?permanent=true`)],
      ['rolls a key', () => asB('POST', `/v1/keys/${a.targetKeyId}/roll`, {})],
      ['deletes one root key', () => asB('DELETE', `/v1/root-keys/${a.rootKeyIds[0]}`)],
      ['deletes the other root key', () => asB('DELETE', `/v1/root-keys/${a.rootKeyIds[1]}`)],
      [
        "sets a key's credits",
        () => asB('POST', `/v1/keys/${a.keyId}/credits`, { op: 'set', value: 0 }),
      ],
      ['reads the identity', () => asB('GET', `/v1/identities/${a.externalId}`)],
      ['updates the identity', () => asB('PATCH', `/v1/identities/${a.externalId}`, { meta: {} })],
      ['deletes the identity', () => asB('DELETE', `/v1/identities/${a.externalId}`)],
      [
        "sets the identity's credits",
        () => asB('POST', `/v1/identities/${a.externalId}/credits`, { op: 'set', value: 0 }),
      ],
      ['reads the override', () => asB('GET', '/v1/ratelimits/logins/overrides/alpha-caller')],
      ['deletes the override', () => asB('DELETE', '/v1/ratelimits/logins/overrides/alpha-caller')],
      ['reads the usage of a key', () => asB('GET', `/v1/usage?keyId=${a.keyId}`)],
      ['reads the usage of the API', () => asB('GET', `/v1/usage?apiId=${a.apiId}`)],
    ];

    for (const [name, probe] of probes) {
      it(`answers 404 when B ${name} of A`, async () => {
        assertHidden(await probe());
      });
    }

    it("counts B's verifications of A's keys in B's usage as NOT_FOUND only", async () => {
      await asB('POST', '/v1/keys/verify', { key: a.key });
      await t.keygate.usageRecorder.flush();

      const usageOf = async (rootKey: string, query: string) => {
        const answer = await sendAs(t, rootKey, 'GET', `/v1/usage${query}`);
        assert.equal(answer.status, 200, answer.text);
        return bodyOf(answer).totals as Record<string, number>;
      };
      assert.ok(((await usageOf(b.rootKey, '')).NOT_FOUND ?? 0) >= 1);
      assert.equal((await usageOf(a.rootKey, `?keyId=${a.keyId}`)).NOT_FOUND, 0);
      const top = bodyOf(await asB('GET', '/v1/usage/top?limit=100')).items as { id: string }[];
      const aKeys = [a.keyId, a.targetKeyId, a.sharedNameKeyId];
      assert.deepEqual(
        top.filter((item) => aKeys.includes(item.id)),
        [],
      );
    });

    it("finds none of A's audit events by A's target ids", async () => {
      for (const targetId of [a.apiId, a.keyId, a.targetKeyId, ...a.rootKeyIds]) {
        const answer = await asB('GET', `/v1/audit?targetId=${targetId}`);
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(bodyOf(answer).items, [], `audit events of ${targetId}`);
      }
    });

    it("verifies A's key as NOT_FOUND, with no details of it", async () => {
      const bodies = [
        { key: a.key },
        { key: a.key, apiId: a.apiId },
        { key: a.key, apiId: b.apiId },
        { key: a.key, permissions: 'read' },
      ];
      for (const body of bodies) {
        const answer = await asB('POST', '/v1/keys/verify', body);
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(answer.body, { valid: false, code: 'NOT_FOUND' });
      }
    });

    it('shares no identity, credits, override or window between workspaces', async () => {
      const verifyAs = (w: Workspace) =>
        sendAs(t, w.rootKey, 'POST', '/v1/keys/verify', { key: w.sharedNameKey });
      const limitAs = (w: Workspace, identifier: string) =>
        sendAs(t, w.rootKey, 'POST', '/v1/ratelimits/logins/limit', {
          identifier,
          limit: 1,
          duration: 60_000,
        });

      assert.equal(bodyOf(await verifyAs(a)).code, 'VALID');
      assert.equal(bodyOf(await verifyAs(a)).code, 'USAGE_EXCEEDED');
      assert.equal(bodyOf(await verifyAs(b)).code, 'VALID');
      assert.equal(bodyOf(await limitAs(a, 'alpha-caller')).success, false);
      assert.equal(bodyOf(await limitAs(b, 'alpha-caller')).success, true);
      assert.equal(bodyOf(await limitAs(a, 'both')).success, true);
      assert.equal(bodyOf(await limitAs(b, 'both')).success, true);
    });

    it("verifies B's own key as NOT_FOUND when B names A's API", async () => {
      const answer = await asB('POST', '/v1/keys/verify', { key: b.key, apiId: a.apiId });
      assert.deepEqual(answer.body, { valid: false, code: 'NOT_FOUND' });
    });

    it("grants nothing of A through a permission B writes with A's API id", async () => {
      const grant = await asB('POST', '/v1/root-keys', {
        name: 'aimed at A',
        permissions: [`api.${a.apiId}.*`],
      });
      assert.equal(grant.status, 201, grant.text);
      const aimed = String(bodyOf(grant).key);
      const asAimed = (method: Method, url: string, body?: unknown) =>
        sendAs(t, aimed, method, url, body);

      assertHidden(await asAimed('GET', `/v1/apis/${a.apiId}`));
      assertHidden(await asAimed('GET', `/v1/keys/${a.keyId}`));
      assertHidden(await asAimed('POST', `/v1/apis/${a.apiId}/keys`, {}));
      const verified = await asAimed('POST', '/v1/keys/verify', { key: a.key, apiId: a.apiId });
      assert.deepEqual(verified.body, { valid: false, code: 'NOT_FOUND' });
    });

    it("lists only B's own records", async () => {
      const ids = async (url: string) => {
        const answer = await asB('GET', url);
        assert.equal(answer.status, 200, answer.text);
        assert.ok(!A_MARKERS.some((marker) => answer.text.includes(marker)), answer.text);
        return (bodyOf(answer).items as { id: string }[]).map((item) => item.id);
      };
      assert.deepEqual(await ids('/v1/apis'), [b.apiId]);
      const rootKeys = await ids('/v1/root-keys');
      assert.deepEqual(
        rootKeys.filter((id) => a.rootKeyIds.includes(id)),
        [],
      );
      for (const id of b.rootKeyIds) assert.ok(rootKeys.includes(id), id);
      assert.deepEqual(
        new Set(await ids(`/v1/apis/${b.apiId}/keys`)),
        new Set([b.keyId, b.targetKeyId, b.sharedNameKeyId]),
      );
      assert.deepEqual(await ids(`/v1/apis/${b.apiId}/keys?externalId=customer-1`), [b.keyId]);
      assert.equal((await ids('/v1/identities')).length, 2);
    });

    it("shows B only audit events about B's records", async () => {
      const answer = await asB('GET', '/v1/audit?limit=100');
      const events = bodyOf(answer).items as { targetId: string }[];
      const aIds = new Set([a.apiId, a.keyId, a.targetKeyId, ...a.rootKeyIds]);
      assert.ok(events.length > 0);
      assert.deepEqual(
        events.filter((event) => aIds.has(event.targetId)),
        [],
      );
      assert.ok(!A_MARKERS.some((marker) => answer.text.includes(marker)), answer.text);
    });

    it("pages B's lists from a cursor made of A's ids without showing A's records", async () => {
      for (const id of [a.apiId, a.rootKeyIds[0] ?? '']) {
        const cursor = Buffer.from(id).toString('base64url');
        for (const url of ['/v1/apis', '/v1/root-keys', '/v1/audit']) {
          const answer = await asB('GET', `${url}?cursor=${cursor}`);
          assert.ok(answer.status === 200 || answer.status === 400, answer.text);
          assert.ok(!A_MARKERS.some((marker) => answer.text.includes(marker)), answer.text);
        }
      }
    });

    it('left every record of A as it was, and its key still verifies', async () => {
      assert.deepEqual(await snapshot(t, a), untouched);

      const answer = await t.request({
        method: 'POST',
        url: '/v1/keys/verify',
        body: { key: a.key },
        rootKey: a.rootKey,
      });
      assert.equal(answer.body.code, 'VALID');
      assert.equal(answer.body.keyId, a.keyId);
    });
  });
}
