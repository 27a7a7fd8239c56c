import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp, type TestResponse } from '../support/app.ts';
import { storeKinds } from '../support/databases.ts';

const HOUR = 60 * 60 * 1000;

/** Every field a key shows on read; `key` (the secret) only on create and roll. */
const KEY_FIELDS = [
  'apiId',
  'createdAt',
  'credits',
  'enabled',
  'expiresAt',
  'externalId',
  'id',
  'lastUsedAt',
  'meta',
  'name',
  'permissions',
  'ratelimits',
  'revokedAt',
  'rolledFrom',
  'start',
  'updatedAt',
];

function assertProblem(response: TestResponse, status: number, code: string, path?: string) {
  assert.equal(response.status, status, response.text);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  assert.equal(response.body.status, status);
  assert.equal(response.body.code, code);
  assert.match(response.body.requestId, /^req_/);
  if (path !== undefined) {
    const paths = (response.body.errors ?? []).map((error: { path: string }) => error.path);
    assert.ok(paths.includes(path), `expected an error at ${path}, got ${JSON.stringify(paths)}`);
  }
}

/** Asserts that a response shows no secret and no hash of one. */
function assertNoSecret(response: TestResponse, secrets: string[]) {
  for (const secret of secrets) assert.ok(!response.text.includes(secret), 'a secret is shown');
  assert.doesNotMatch(response.text, /[0-9a-f]{64}/i, 'a hash is shown');
  assert.doesNotMatch(response.text, /"(key|hash)"\s*:/, 'a key or hash field is shown');
}

for (const kind of storeKinds) {
  describe(`key routes (${kind})`, () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp(kind);
    });

    after(() => app.close());

    async function createApi(body: Record<string, unknown> = {}) {
      const response = await app.request({
        method: 'POST',
        url: '/v1/apis',
        body: { name: 'payments', ...body },
      });
      assert.equal(response.status, 201, response.text);
      return response.body as { id: string; prefix: string };
    }

    async function createKey(apiId: string, body: Record<string, unknown> = {}) {
      const response = await app.request({ method: 'POST', url: `/v1/apis/${apiId}/keys`, body });
      assert.equal(response.status, 201, response.text);
      return response.body as { id: string; key: string; start: string } & Record<string, unknown>;
    }

    async function createRootKey(permissions: string[]) {
      const response = await app.request({
        method: 'POST',
        url: '/v1/root-keys',
        body: { name: 'limited', permissions },
      });
      assert.equal(response.status, 201, response.text);
      return response.body.key as string;
    }

    async function verify(key: string, body: Record<string, unknown> = {}) {
      const response = await app.request({
        method: 'POST',
        url: '/v1/keys/verify',
        body: { key, ...body },
      });
      assert.equal(response.status, 200, response.text);
      return response.body as { valid: boolean; code: string } & Record<string, unknown>;
    }

    const getKey = (id: string, rootKey?: string) =>
      app.request({ method: 'GET', url: `/v1/keys/${id}`, rootKey });

    describe('POST /v1/apis/{apiId}/keys', () => {
      it('creates a key with every setting and shows its secret in `key`', async () => {
        const api = await createApi();
        const expiresAt = new Date(app.clock() + HOUR).toISOString();
        const response = await app.request({
          method: 'POST',
          url: `/v1/apis/${api.id}/keys`,
          body: {
            name: 'acme production',
            externalId: 'customer_42',
            meta: { plan: 'pro', seats: 3 },
            permissions: ['documents.read', 'documents.write'],
            enabled: true,
            expiresAt,
          },
        });

        assert.equal(response.status, 201);
        const { key, id, start, createdAt, updatedAt, ...rest } = response.body;
        assert.deepEqual(Object.keys(response.body).sort(), [...KEY_FIELDS, 'key'].sort());
        assert.match(id, /^key_[0-9A-Za-z]{20}$/);
        assert.match(key, /^kg_[0-9A-Za-z]{39}$/);
        assert.equal(createdAt, new Date(app.clock()).toISOString());
        assert.equal(updatedAt, createdAt);
        assert.deepEqual(rest, {
          apiId: api.id,
          name: 'acme production',
          externalId: 'customer_42',
          meta: { plan: 'pro', seats: 3 },
          permissions: ['documents.read', 'documents.write'],
          enabled: true,
          expiresAt,
          credits: null,
          ratelimits: [],
          lastUsedAt: null,
          revokedAt: null,
          rolledFrom: null,
        });
      });

      it('gives a key without settings the defaults: enabled, no expiry, no permissions', async () => {
        const api = await createApi();
        const created = await createKey(api.id);

        assert.equal(created.name, null);
        assert.equal(created.externalId, null);
        assert.equal(created.meta, null);
        assert.deepEqual(created.permissions, []);
        assert.equal(created.enabled, true);
        assert.equal(created.expiresAt, null);
        assert.equal((await verify(created.key)).code, 'VALID');
      });

      it('shows as `start` the prefix, `_` and the first 4 characters of the key', async () => {
        const api = await createApi();
        const created = await createKey(api.id);

        assert.match(created.start, /^kg_[0-9A-Za-z]{4}$/);
        assert.ok(created.key.startsWith(created.start));
      });

      it("starts keys with the API's prefix", async () => {
        const api = await createApi({ prefix: 'acme' });
        const created = await createKey(api.id);

        assert.match(created.key, /^acme_[0-9A-Za-z]{39}$/);
        assert.match(created.start, /^acme_[0-9A-Za-z]{4}$/);
        assert.ok(created.key.startsWith(created.start));
      });

      it("starts a key with its own prefix instead of the API's when given one", async () => {
        const api = await createApi({ prefix: 'acme' });
        const created = await createKey(api.id, { prefix: 'cust_live' });

        assert.match(created.key, /^cust_live_[0-9A-Za-z]{39}$/);
        assert.match(created.start, /^cust_live_[0-9A-Za-z]{4}$/);
        assert.equal((await verify(created.key)).code, 'VALID');
      });

      it('refuses a per-key prefix that cannot start a key with 400 naming `prefix`', async () => {
        const api = await createApi();
        for (const prefix of ['cust_', '9cust', 'Cust']) {
          const response = await app.request({
            method: 'POST',
            url: `/v1/apis/${api.id}/keys`,
            body: { prefix },
          });
          assertProblem(response, 400, 'BAD_REQUEST', 'prefix');
        }
      });

      it('refuses an expiresAt in the past with 400 naming `expiresAt`, creating nothing', async () => {
        const api = await createApi();
        const response = await app.request({
          method: 'POST',
          url: `/v1/apis/${api.id}/keys`,
          body: { expiresAt: new Date(app.clock() - 1000).toISOString() },
        });

        assertProblem(response, 400, 'BAD_REQUEST', 'expiresAt');
        const list = await app.request({ method: 'GET', url: `/v1/apis/${api.id}/keys` });
        assert.deepEqual(list.body.items, []);
      });

      it('answers 404 for an API that does not exist', async () => {
        const response = await app.request({
          method: 'POST',
          url: '/v1/apis/api_00000000000000000000/keys',
          body: {},
        });
        assertProblem(response, 404, 'NOT_FOUND');
      });
    });

    describe('GET /v1/keys/{keyId}', () => {
      it('reads a key with its settings but never its secret or hash', async () => {
        const api = await createApi();
        const created = await createKey(api.id, { name: 'reader', meta: { a: 1 } });
        const response = await getKey(created.id);

        assert.equal(response.status, 200);
        assert.deepEqual(Object.keys(response.body).sort(), KEY_FIELDS);
        const { key: _secret, ...shown } = created;
        assert.deepEqual(response.body, shown);
        assertNoSecret(response, [created.key]);
      });

      it('answers 404 for a key that does not exist', async () => {
        assertProblem(await getKey('key_00000000000000000000'), 404, 'NOT_FOUND');
      });
    });

    describe('GET /v1/apis/{apiId}/keys', () => {
      it('pages through every key with `limit` and ends with nextCursor null', async () => {
        const api = await createApi();
        const created: string[] = [];
        for (let i = 0; i < 5; i += 1) created.push((await createKey(api.id)).id);

        const seen: string[] = [];
        const sizes: number[] = [];
        let cursor: string | null = null;
        do {
          const query: string = cursor === null ? '' : `&cursor=${cursor}`;
          const response = await app.request({
            method: 'GET',
            url: `/v1/apis/${api.id}/keys?limit=2${query}`,
          });
          assert.equal(response.status, 200, response.text);
          assert.deepEqual(Object.keys(response.body).sort(), ['items', 'nextCursor']);
          seen.push(...response.body.items.map((key: { id: string }) => key.id));
          sizes.push(response.body.items.length);
          cursor = response.body.nextCursor;
        } while (cursor !== null && sizes.length < 10);

        assert.deepEqual(sizes, [2, 2, 1]);
        assert.deepEqual([...seen].sort(), [...created].sort());
      });

      it('answers one page with nextCursor null when everything fits', async () => {
        const api = await createApi();
        const created = await createKey(api.id);
        const response = await app.request({ method: 'GET', url: `/v1/apis/${api.id}/keys` });

        assert.equal(response.status, 200);
        assert.equal(response.body.nextCursor, null);
        assert.deepEqual(
          response.body.items.map((key: { id: string }) => key.id),
          [created.id],
        );
        assert.deepEqual(Object.keys(response.body.items[0]).sort(), KEY_FIELDS);
        assert.equal(response.body.items[0].lastUsedAt, null);
      });

      it('lists only the keys of the given externalId when filtered', async () => {
        const api = await createApi();
        const mine = [
          await createKey(api.id, { externalId: 'customer_a' }),
          await createKey(api.id, { externalId: 'customer_a' }),
        ];
        await createKey(api.id, { externalId: 'customer_b' });
        await createKey(api.id);

        const response = await app.request({
          method: 'GET',
          url: `/v1/apis/${api.id}/keys?externalId=customer_a`,
        });

        assert.equal(response.status, 200);
        assert.deepEqual(
          response.body.items.map((key: { id: string }) => key.id).sort(),
          mine.map((key) => key.id).sort(),
        );
        assert.equal(response.body.nextCursor, null);
      });

      it('never shows a secret or a hash', async () => {
        const api = await createApi();
        const created = [await createKey(api.id), await createKey(api.id)];
        const response = await app.request({ method: 'GET', url: `/v1/apis/${api.id}/keys` });

        assert.equal(response.status, 200);
        assertNoSecret(
          response,
          created.map((key) => key.key),
        );
      });

      it('refuses a cursor it did not give out with 400', async () => {
        const api = await createApi();
        for (const cursor of ['forged', Buffer.from('key_x').toString('base64url')]) {
          const response = await app.request({
            method: 'GET',
            url: `/v1/apis/${api.id}/keys?cursor=${cursor}`,
          });
          assertProblem(response, 400, 'BAD_REQUEST');
          assert.match(response.body.errors[0].path, /cursor$/);
        }
      });

      it('names a forged cursor `query.cursor`, as every other query parameter is named', {}, async () => {
        const api = await createApi();
        const response = await app.request({
          method: 'GET',
          url: `/v1/apis/${api.id}/keys?cursor=forged`,
        });
        assertProblem(response, 400, 'BAD_REQUEST', 'query.cursor');
      });

      it('refuses a limit outside 1–100 with 400 naming `query.limit`', async () => {
        const api = await createApi();
        for (const limit of [0, 101]) {
          const response = await app.request({
            method: 'GET',
            url: `/v1/apis/${api.id}/keys?limit=${limit}`,
          });
          assertProblem(response, 400, 'BAD_REQUEST', 'query.limit');
        }
      });

      it('answers 404 for an API that does not exist', async () => {
        const response = await app.request({
          method: 'GET',
          url: '/v1/apis/api_00000000000000000000/keys',
        });
        assertProblem(response, 404, 'NOT_FOUND');
      });
    });

    describe('PATCH /v1/keys/{keyId}', () => {
      const patch = (id: string, body: unknown, rootKey?: string) =>
        app.request({ method: 'PATCH', url: `/v1/keys/${id}`, body, rootKey });

      it('changes the given fields and keeps every omitted one', async () => {
        const api = await createApi();
        const expiresAt = new Date(app.clock() + HOUR).toISOString();
        const created = await createKey(api.id, {
          name: 'before',
          externalId: 'customer_1',
          meta: { tier: 1 },
          permissions: ['read'],
          expiresAt,
        });
        app.clock.advance(1000);

        const response = await patch(created.id, { name: 'after' });

        assert.equal(response.status, 200, response.text);
        assert.deepEqual(Object.keys(response.body).sort(), KEY_FIELDS);
        assert.equal(response.body.name, 'after');
        assert.equal(response.body.externalId, 'customer_1');
        assert.deepEqual(response.body.meta, { tier: 1 });
        assert.deepEqual(response.body.permissions, ['read']);
        assert.equal(response.body.expiresAt, expiresAt);
        assert.equal(response.body.enabled, true);
        assert.equal(response.body.createdAt, created.createdAt);
        assert.equal(response.body.updatedAt, new Date(app.clock()).toISOString());
        assert.deepEqual((await getKey(created.id)).body, response.body);
      });

      it('clears name, externalId, meta and expiresAt with null, and permissions to []', async () => {
        const api = await createApi();
        const created = await createKey(api.id, {
          name: 'to clear',
          externalId: 'customer_2',
          meta: { tier: 2 },
          permissions: ['read', 'write'],
          expiresAt: new Date(app.clock() + HOUR).toISOString(),
        });

        const response = await patch(created.id, {
          name: null,
          externalId: null,
          meta: null,
          expiresAt: null,
          permissions: null,
        });

        assert.equal(response.status, 200, response.text);
        assert.equal(response.body.name, null);
        assert.equal(response.body.externalId, null);
        assert.equal(response.body.meta, null);
        assert.equal(response.body.expiresAt, null);
        assert.deepEqual(response.body.permissions, []);
        assert.deepEqual((await getKey(created.id)).body, response.body);
      });

      it('takes effect on the very next verification, though the key was cached', async () => {
        const api = await createApi();
        const created = await createKey(api.id);
        assert.equal((await verify(created.key)).code, 'VALID');

        assert.equal((await patch(created.id, { enabled: false })).status, 200);
        assert.deepEqual(await verify(created.key).then(({ valid, code }) => ({ valid, code })), {
          valid: false,
          code: 'DISABLED',
        });

        assert.equal((await patch(created.id, { enabled: true })).status, 200);
        assert.equal((await verify(created.key)).code, 'VALID');
      });

      it('applies new permissions to the next verification', async () => {
        const api = await createApi();
        const created = await createKey(api.id, { permissions: ['read'] });
        assert.equal(
          (await verify(created.key, { permissions: 'write' })).code,
          'INSUFFICIENT_PERMISSIONS',
        );

        assert.equal((await patch(created.id, { permissions: ['read', 'write'] })).status, 200);
        const after = await verify(created.key, { permissions: 'write' });
        assert.equal(after.code, 'VALID');
        assert.deepEqual(after.permissions, ['read', 'write']);
      });

      it('refuses an expiresAt in the past with 400 naming `expiresAt`, changing nothing', async () => {
        const api = await createApi();
        const created = await createKey(api.id, { name: 'unchanged' });

        const response = await patch(created.id, {
          name: 'changed',
          expiresAt: new Date(app.clock() - 1).toISOString(),
        });

        assertProblem(response, 400, 'BAD_REQUEST', 'expiresAt');
        const { key: _secret, ...shown } = created;
        assert.deepEqual((await getKey(created.id)).body, shown);
      });

      it('answers 404 for a key that does not exist', async () => {
        assertProblem(await patch('key_00000000000000000000', { name: 'x' }), 404, 'NOT_FOUND');
      });
    });

    describe('DELETE /v1/keys/{keyId}', () => {
      const remove = (id: string, query = '', rootKey?: string) =>
        app.request({ method: 'DELETE', url: `/v1/keys/${id}${query}`, rootKey });

      it('revokes a key: it is kept, shows revokedAt and verifies as REVOKED', async () => {
        const api = await createApi();
        const created = await createKey(api.id, { name: 'to revoke' });
        assert.equal((await verify(created.key)).code, 'VALID');
        app.clock.advance(1000);

        const response = await remove(created.id);

        assert.equal(response.status, 200, response.text);
        const revokedAt = new Date(app.clock()).toISOString();
        assert.equal(response.body.revokedAt, revokedAt);
        assert.equal(response.body.name, 'to revoke');
        assertNoSecret(response, [created.key]);
        const read = await getKey(created.id);
        assert.equal(read.status, 200);
        assert.equal(read.body.revokedAt, revokedAt);
        const verified = await verify(created.key);
        assert.equal(verified.valid, false);
        assert.equal(verified.code, 'REVOKED');
        assert.equal(verified.keyId, created.id);
      });

      it('keeps the first revokedAt when a key is revoked twice', async () => {
        const api = await createApi();
        const created = await createKey(api.id);
        const first = await remove(created.id);
        app.clock.advance(5000);

        const second = await remove(created.id);

        assert.equal(second.status, 200);
        assert.equal(second.body.revokedAt, first.body.revokedAt);
      });

      it('erases a key with ?permanent=true: 204, then 404, and it verifies as NOT_FOUND', async () => {
        const api = await createApi();
        const created = await createKey(api.id);
        assert.equal((await verify(created.key)).code, 'VALID');

        const response = await remove(created.id, '?permanent=true');

        assert.equal(response.status, 204);
        assert.equal(response.text, '');
        assertProblem(await getKey(created.id), 404, 'NOT_FOUND');
        assert.deepEqual(await verify(created.key), { valid: false, code: 'NOT_FOUND' });
        assertProblem(await remove(created.id, '?permanent=true'), 404, 'NOT_FOUND');
        const list = await app.request({ method: 'GET', url: `/v1/apis/${api.id}/keys` });
        assert.deepEqual(list.body.items, []);
      });

      it('erases a key that was revoked before', async () => {
        const api = await createApi();
        const created = await createKey(api.id);
        assert.equal((await remove(created.id)).status, 200);

        assert.equal((await remove(created.id, '?permanent=true')).status, 204);
        assertProblem(await getKey(created.id), 404, 'NOT_FOUND');
      });

      it('answers 404 for a key that does not exist', async () => {
        assertProblem(await remove('key_00000000000000000000'), 404, 'NOT_FOUND');
      });
    });

    describe('POST /v1/keys/{keyId}/roll', () => {
      const roll = (id: string, body?: unknown, rootKey?: string) =>
        app.request({ method: 'POST', url: `/v1/keys/${id}/roll`, body, rootKey });

      it('issues a new id and secret with the same settings, naming the old key in rolledFrom', async () => {
        const api = await createApi({ prefix: 'acme' });
        const expiresAt = new Date(app.clock() + 2 * HOUR).toISOString();
        const old = await createKey(api.id, {
          name: 'rolled',
          externalId: 'customer_r',
          meta: { region: 'eu' },
          permissions: ['read'],
          expiresAt,
        });

        const response = await roll(old.id, { gracePeriodMs: HOUR });

        assert.equal(response.status, 201, response.text);
        assert.deepEqual(Object.keys(response.body).sort(), [...KEY_FIELDS, 'key'].sort());
        const rolled = response.body;
        assert.notEqual(rolled.id, old.id);
        assert.notEqual(rolled.key, old.key);
        assert.match(rolled.key, /^acme_[0-9A-Za-z]{39}$/);
        assert.ok(rolled.key.startsWith(rolled.start));
        assert.equal(rolled.rolledFrom, old.id);
        assert.equal(rolled.apiId, api.id);
        assert.equal(rolled.name, 'rolled');
        assert.equal(rolled.externalId, 'customer_r');
        assert.deepEqual(rolled.meta, { region: 'eu' });
        assert.deepEqual(rolled.permissions, ['read']);
        assert.equal(rolled.enabled, true);
        assert.equal(rolled.expiresAt, expiresAt);
        assert.equal(rolled.revokedAt, null);
        assert.equal((await verify(rolled.key)).code, 'VALID');
      });

      it('keeps a per-key prefix on the new key', async () => {
        const api = await createApi();
        const old = await createKey(api.id, { prefix: 'special' });
        const response = await roll(old.id, {});

        assert.equal(response.status, 201, response.text);
        assert.match(response.body.key, /^special_[0-9A-Za-z]{39}$/);
      });

      it('keeps the old key working for gracePeriodMs, then EXPIRED', async () => {
        const api = await createApi();
        const old = await createKey(api.id);
        assert.equal((await verify(old.key)).code, 'VALID');

        const response = await roll(old.id, { gracePeriodMs: 60_000 });

        assert.equal(response.status, 201, response.text);
        const graceEnds = new Date(app.clock() + 60_000).toISOString();
        assert.equal((await getKey(old.id)).body.expiresAt, graceEnds);
        app.clock.advance(59_999);
        assert.equal((await verify(old.key)).code, 'VALID');
        assert.equal((await verify(response.body.key)).code, 'VALID');
        app.clock.advance(1);
        assert.equal((await verify(old.key)).code, 'EXPIRED');
        assert.equal((await verify(response.body.key)).code, 'VALID');
      });

      it('expires the old key at once without a grace period', async () => {
        const api = await createApi();
        const old = await createKey(api.id);
        assert.equal((await verify(old.key)).code, 'VALID');

        const response = await roll(old.id, {});

        assert.equal(response.status, 201, response.text);
        assert.equal(response.body.expiresAt, null);
        assert.equal((await getKey(old.id)).body.expiresAt, new Date(app.clock()).toISOString());
        assert.equal((await verify(old.key)).code, 'EXPIRED');
        assert.equal((await verify(response.body.key)).code, 'VALID');
      });

      it('keeps the old key’s own expiry when it comes before the grace period ends', async () => {
        const api = await createApi();
        const ownExpiry = new Date(app.clock() + 10_000).toISOString();
        const old = await createKey(api.id, { expiresAt: ownExpiry });

        assert.equal((await roll(old.id, { gracePeriodMs: HOUR })).status, 201);

        assert.equal((await getKey(old.id)).body.expiresAt, ownExpiry);
      });

      it('rolls a key when the request has no body at all', {}, async () => {
        const api = await createApi();
        const old = await createKey(api.id);

        const response = await roll(old.id);

        assert.equal(response.status, 201, response.text);
        assert.equal(response.body.rolledFrom, old.id);
        assert.equal((await verify(old.key)).code, 'EXPIRED');
      });

      it('refuses to roll a revoked key with 409', async () => {
        const api = await createApi();
        const old = await createKey(api.id);
        await app.request({ method: 'DELETE', url: `/v1/keys/${old.id}` });

        assertProblem(await roll(old.id, {}), 409, 'CONFLICT');
        const list = await app.request({ method: 'GET', url: `/v1/apis/${api.id}/keys` });
        assert.deepEqual(
          list.body.items.map((key: { id: string }) => key.id),
          [old.id],
        );
      });

      it('refuses a grace period over 30 days, or below 0, with 400 naming `gracePeriodMs`', async () => {
        const api = await createApi();
        const old = await createKey(api.id);
        for (const gracePeriodMs of [30 * 24 * HOUR + 1, -1]) {
          assertProblem(await roll(old.id, { gracePeriodMs }), 400, 'BAD_REQUEST', 'gracePeriodMs');
        }
        assert.equal((await verify(old.key)).code, 'VALID');
      });

      it('answers 404 for a key that does not exist', async () => {
        assertProblem(await roll('key_00000000000000000000', {}), 404, 'NOT_FOUND');
      });
    });

    describe('root key permissions', () => {
      it('lets a root key with only api.<id>.read_key read and list, and nothing more (403)', async () => {
        const api = await createApi();
        const created = await createKey(api.id);
        const reader = await createRootKey([`api.${api.id}.read_key`]);

        assert.equal((await getKey(created.id, reader)).status, 200);
        const list = await app.request({
          method: 'GET',
          url: `/v1/apis/${api.id}/keys`,
          rootKey: reader,
        });
        assert.equal(list.status, 200);

        const refused = [
          { method: 'POST', url: `/v1/apis/${api.id}/keys`, body: {}, permission: 'create_key' },
          {
            method: 'PATCH',
            url: `/v1/keys/${created.id}`,
            body: { name: 'x' },
            permission: 'update_key',
          },
          { method: 'DELETE', url: `/v1/keys/${created.id}`, permission: 'delete_key' },
          {
            method: 'DELETE',
            url: `/v1/keys/${created.id}?permanent=true`,
            permission: 'delete_key',
          },
          {
            method: 'POST',
            url: `/v1/keys/${created.id}/roll`,
            body: {},
            permission: 'update_key',
          },
        ] as const;
        for (const { permission, ...request } of refused) {
          const response = await app.request({ ...request, rootKey: reader });
          assertProblem(response, 403, 'FORBIDDEN');
          assert.ok(response.body.detail.includes(`api.${api.id}.${permission}`), response.text);
        }

        const after = await getKey(created.id);
        const { key: _secret, ...shown } = created;
        assert.deepEqual(after.body, shown);
      });

      it('refuses a root key for one API the keys of another API (403)', async () => {
        const mine = await createApi();
        const theirs = await createApi();
        const key = await createKey(theirs.id);
        const rootKey = await createRootKey([`api.${mine.id}.*`]);

        assertProblem(await getKey(key.id, rootKey), 403, 'FORBIDDEN');
        const list = await app.request({
          method: 'GET',
          url: `/v1/apis/${theirs.id}/keys`,
          rootKey,
        });
        assertProblem(list, 403, 'FORBIDDEN');
        const create = await app.request({
          method: 'POST',
          url: `/v1/apis/${theirs.id}/keys`,
          body: {},
          rootKey,
        });
        assertProblem(create, 403, 'FORBIDDEN');
      });

      it('lets api.<id>.* do everything with the keys of that API', async () => {
        const api = await createApi();
        const rootKey = await createRootKey([`api.${api.id}.*`]);

        const created = await app.request({
          method: 'POST',
          url: `/v1/apis/${api.id}/keys`,
          body: { name: 'by wildcard' },
          rootKey,
        });
        assert.equal(created.status, 201, created.text);
        const id = created.body.id;
        assert.equal((await getKey(id, rootKey)).status, 200);
        const patched = await app.request({
          method: 'PATCH',
          url: `/v1/keys/${id}`,
          body: { name: 'renamed' },
          rootKey,
        });
        assert.equal(patched.status, 200);
        const rolled = await app.request({
          method: 'POST',
          url: `/v1/keys/${id}/roll`,
          body: {},
          rootKey,
        });
        assert.equal(rolled.status, 201);
        const revoked = await app.request({
          method: 'DELETE',
          url: `/v1/keys/${rolled.body.id}`,
          rootKey,
        });
        assert.equal(revoked.status, 200);
      });

      it('lets api.*.read_key read the keys of every API, but not change them', async () => {
        const first = await createKey((await createApi()).id);
        const second = await createKey((await createApi()).id);
        const rootKey = await createRootKey(['api.*.read_key']);

        assert.equal((await getKey(first.id, rootKey)).status, 200);
        assert.equal((await getKey(second.id, rootKey)).status, 200);
        const patched = await app.request({
          method: 'PATCH',
          url: `/v1/keys/${first.id}`,
          body: { name: 'x' },
          rootKey,
        });
        assertProblem(patched, 403, 'FORBIDDEN');
      });

      it('answers 404, not 403, to a limited root key asking for a missing key or API', async () => {
        const api = await createApi();
        const rootKey = await createRootKey([`api.${api.id}.verify_key`]);
        const missingKey = 'key_00000000000000000000';
        const missingApi = 'api_00000000000000000000';

        const requests = [
          { method: 'GET', url: `/v1/keys/${missingKey}` },
          { method: 'PATCH', url: `/v1/keys/${missingKey}`, body: { name: 'x' } },
          { method: 'DELETE', url: `/v1/keys/${missingKey}` },
          { method: 'POST', url: `/v1/keys/${missingKey}/roll`, body: {} },
          { method: 'GET', url: `/v1/apis/${missingApi}/keys` },
          { method: 'POST', url: `/v1/apis/${missingApi}/keys`, body: {} },
        ] as const;
        for (const request of requests) {
          assertProblem(await app.request({ ...request, rootKey }), 404, 'NOT_FOUND');
        }
      });

      it('answers 401 before anything else without a root key', async () => {
        const api = await createApi();
        const key = await createKey(api.id);
        const requests = [
          { method: 'POST', url: `/v1/apis/${api.id}/keys`, body: {} },
          { method: 'GET', url: `/v1/apis/${api.id}/keys` },
          { method: 'GET', url: `/v1/keys/${key.id}` },
          { method: 'GET', url: '/v1/keys/key_00000000000000000000' },
          { method: 'PATCH', url: `/v1/keys/${key.id}`, body: { enabled: false } },
          { method: 'PATCH', url: `/v1/keys/${key.id}`, body: { nonsense: true } },
          { method: 'DELETE', url: `/v1/keys/${key.id}?permanent=true` },
          { method: 'POST', url: `/v1/keys/${key.id}/roll`, body: {} },
        ] as const;

        for (const request of requests) {
          assertProblem(await app.request({ ...request, rootKey: null }), 401, 'UNAUTHORIZED');
          assertProblem(await app.request({ ...request, rootKey: key.key }), 401, 'UNAUTHORIZED');
        }
        assert.equal((await verify(key.key)).code, 'VALID');
      });
    });
  });
}
