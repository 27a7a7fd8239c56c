import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKey } from '../../src/core/key-format.ts';
import { startTestApp, type TestApp, type TestResponse } from '../support/app.ts';
import { storeKinds } from '../support/databases.ts';

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

interface CreatedRootKey {
  key: string;
  id: string;
  name: string;
  start: string;
  permissions: string[];
  createdAt: string;
}

for (const kind of storeKinds) {
  describe(`root key routes (${kind})`, () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp(kind);
    });

    after(() => app.close());

    const createRequest = (permissions: string[], rootKey?: string, name = 'deploy bot') =>
      app.request({ method: 'POST', url: '/v1/root-keys', body: { name, permissions }, rootKey });

    async function createRootKey(permissions: string[], rootKey?: string) {
      const response = await createRequest(permissions, rootKey);
      assert.equal(response.status, 201, response.text);
      return response.body as CreatedRootKey;
    }

    async function listAllRootKeys(): Promise<{ id: string }[]> {
      const items: { id: string }[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '' : `&cursor=${cursor}`;
        const response = await app.request({
          method: 'GET',
          url: `/v1/root-keys?limit=100${query}`,
        });
        assert.equal(response.status, 200, response.text);
        items.push(...response.body.items);
        cursor = response.body.nextCursor;
      } while (cursor !== null);
      return items;
    }

    async function createApi() {
      const response = await app.request({ method: 'POST', url: '/v1/apis', body: { name: 'a' } });
      assert.equal(response.status, 201, response.text);
      return response.body.id as string;
    }

    describe('POST /v1/root-keys', () => {
      it('creates a root key and shows its secret once in `key`', async () => {
        const response = await createRequest(['api.*.verify_key', 'audit.read']);

        assert.equal(response.status, 201, response.text);
        assert.deepEqual(Object.keys(response.body).sort(), [
          'createdAt',
          'id',
          'key',
          'name',
          'permissions',
          'start',
        ]);
        const created = response.body as CreatedRootKey;
        assert.match(created.id, /^root_[0-9A-Za-z]{20}$/);
        assert.match(created.key, /^kg_root_[0-9A-Za-z]{39}$/);
        assert.match(created.start, /^kg_root_[0-9A-Za-z]{4}$/);
        assert.ok(created.key.startsWith(created.start));
        assert.equal(created.name, 'deploy bot');
        assert.deepEqual(created.permissions, ['api.*.verify_key', 'audit.read']);
        assert.equal(created.createdAt, new Date(app.clock()).toISOString());
      });

      it('makes a key that authenticates with exactly the permissions it was given', async () => {
        const created = await createRootKey(['audit.read']);

        const audit = await app.request({ method: 'GET', url: '/v1/audit', rootKey: created.key });
        assert.equal(audit.status, 200, audit.text);
        const api = await app.request({
          method: 'POST',
          url: '/v1/apis',
          body: { name: 'nope' },
          rootKey: created.key,
        });
        assertProblem(api, 403, 'FORBIDDEN');
      });

      it('refuses a body without name or permissions with 400 naming the field', async () => {
        const noName = await app.request({
          method: 'POST',
          url: '/v1/root-keys',
          body: { permissions: [] },
        });
        assertProblem(noName, 400, 'BAD_REQUEST', 'name');
        const noPermissions = await app.request({
          method: 'POST',
          url: '/v1/root-keys',
          body: { name: 'x' },
        });
        assertProblem(noPermissions, 400, 'BAD_REQUEST', 'permissions');
      });

      it('answers 403 to a root key without root_key.create', async () => {
        const limited = await createRootKey(['root_key.read', 'root_key.delete', 'api.*']);
        const response = await createRequest(['api.*.read_key'], limited.key);

        assertProblem(response, 403, 'FORBIDDEN');
        assert.match(response.body.detail, /root_key\.create/);
      });
    });

    describe('granting only what one holds', () => {
      it('lets a root key grant what it holds, wildcards included', async () => {
        const apiId = await createApi();
        const granter = await createRootKey(['api.*', 'root_key.create']);

        for (const permissions of [
          ['api.*'],
          ['api.*.verify_key'],
          [`api.${apiId}.*`],
          [`api.${apiId}.read_key`, 'root_key.create'],
          [],
        ]) {
          const response = await createRequest(permissions, granter.key);
          assert.equal(response.status, 201, `${permissions}: ${response.text}`);
          assert.deepEqual(response.body.permissions, permissions);
        }
      });

      it('refuses with 403, creating nothing, a permission the root key does not hold', async () => {
        const granter = await createRootKey(['api.*', 'root_key.create']);
        const before = (await listAllRootKeys()).length;

        for (const permissions of [
          ['*'],
          ['audit.read'],
          ['root_key.*'],
          ['workspace.create'],
          ['api.*.verify_key', 'usage.read'],
        ]) {
          const response = await createRequest(permissions, granter.key);
          assertProblem(response, 403, 'FORBIDDEN');
        }
        assert.equal((await listAllRootKeys()).length, before);
      });

      it('names the permissions it may not grant', async () => {
        const granter = await createRootKey(['api.*', 'root_key.create']);
        const response = await createRequest(['api.*.read_key', 'audit.read'], granter.key);

        assertProblem(response, 403, 'FORBIDDEN');
        assert.match(response.body.detail, /audit\.read/);
      });

      it('refuses to widen api.<id>.* to another API', async () => {
        const apiId = await createApi();
        const otherApi = await createApi();
        const granter = await createRootKey([`api.${apiId}.*`, 'root_key.create']);

        assert.equal((await createRequest([`api.${apiId}.read_key`], granter.key)).status, 201);
        assertProblem(
          await createRequest([`api.${otherApi}.read_key`], granter.key),
          403,
          'FORBIDDEN',
        );
        assertProblem(await createRequest(['api.*'], granter.key), 403, 'FORBIDDEN');
        assertProblem(await createRequest(['*'], granter.key), 403, 'FORBIDDEN');
      });

      it('refuses api.*.read_key to a holder of api.<id>.* or api.<id>.read_key', async () => {
        const apiId = await createApi();
        for (const held of [`api.${apiId}.*`, `api.${apiId}.read_key`]) {
          const granter = await createRootKey([held, 'root_key.create']);
          const response = await createRequest(['api.*.read_key'], granter.key);
          assertProblem(response, 403, 'FORBIDDEN');
        }
      });
    });

    describe('GET /v1/root-keys', () => {
      it('lists root keys without their secrets or hashes', async () => {
        const created = await createRootKey(['audit.read']);
        const response = await app.request({ method: 'GET', url: '/v1/root-keys?limit=100' });

        assert.equal(response.status, 200, response.text);
        const listed = response.body.items.find((item: { id: string }) => item.id === created.id);
        const { key: _secret, ...shown } = created;
        assert.deepEqual(listed, shown);
        const bootstrap = response.body.items.find(
          (item: { name: string }) => item.name === 'bootstrap',
        );
        assert.deepEqual(bootstrap.permissions, ['*']);
        assert.ok(!response.text.includes(created.key));
        assert.ok(!response.text.includes(app.rootKey));
        assert.doesNotMatch(response.text, /[0-9a-f]{64}/i);
        assert.doesNotMatch(response.text, /"(key|hash)"\s*:/);
      });

      it('pages with limit and cursor and ends with nextCursor null', async () => {
        for (let i = 0; i < 3; i += 1) await createRootKey(['audit.read']);
        const all = await listAllRootKeys();

        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = cursor === null ? '' : `&cursor=${cursor}`;
          const response = await app.request({
            method: 'GET',
            url: `/v1/root-keys?limit=2${query}`,
          });
          assert.equal(response.status, 200, response.text);
          assert.ok(response.body.items.length <= 2);
          seen.push(...response.body.items.map((item: { id: string }) => item.id));
          cursor = response.body.nextCursor;
          pages += 1;
        } while (cursor !== null && pages < 100);

        assert.ok(pages > 2);
        assert.equal(cursor, null);
        assert.deepEqual(seen.sort(), all.map((item) => item.id).sort());
      });

      it('answers 403 to a root key without root_key.read', async () => {
        const limited = await createRootKey(['root_key.create']);
        const response = await app.request({
          method: 'GET',
          url: '/v1/root-keys',
          rootKey: limited.key,
        });
        assertProblem(response, 403, 'FORBIDDEN');
      });

      it('lets root_key.* read, create and delete root keys', async () => {
        const manager = await createRootKey(['root_key.*']);

        const list = await app.request({
          method: 'GET',
          url: '/v1/root-keys',
          rootKey: manager.key,
        });
        assert.equal(list.status, 200);
        const created = await createRootKey(['root_key.read'], manager.key);
        const deleted = await app.request({
          method: 'DELETE',
          url: `/v1/root-keys/${created.id}`,
          rootKey: manager.key,
        });
        assert.equal(deleted.status, 204);
      });
    });

    describe('DELETE /v1/root-keys/{rootKeyId}', () => {
      it('deletes a root key, which stops authenticating at once', async () => {
        const doomed = await createRootKey(['audit.read']);
        const before = await app.request({ method: 'GET', url: '/v1/audit', rootKey: doomed.key });
        assert.equal(before.status, 200);

        const response = await app.request({ method: 'DELETE', url: `/v1/root-keys/${doomed.id}` });

        assert.equal(response.status, 204);
        assert.equal(response.text, '');
        const after = await app.request({ method: 'GET', url: '/v1/audit', rootKey: doomed.key });
        assertProblem(after, 401, 'UNAUTHORIZED');
        const listed = await listAllRootKeys();
        assert.ok(!listed.some((item) => item.id === doomed.id));
      });

      it('answers 404 for a root key that does not exist or was deleted', async () => {
        const doomed = await createRootKey([]);
        await app.request({ method: 'DELETE', url: `/v1/root-keys/${doomed.id}` });

        for (const id of [doomed.id, 'root_00000000000000000000']) {
          const response = await app.request({ method: 'DELETE', url: `/v1/root-keys/${id}` });
          assertProblem(response, 404, 'NOT_FOUND');
        }
      });

      it('answers 403 to a root key without root_key.delete, and keeps the key', async () => {
        const target = await createRootKey(['audit.read']);
        const limited = await createRootKey(['root_key.read', 'root_key.create']);

        const response = await app.request({
          method: 'DELETE',
          url: `/v1/root-keys/${target.id}`,
          rootKey: limited.key,
        });

        assertProblem(response, 403, 'FORBIDDEN');
        const still = await app.request({ method: 'GET', url: '/v1/audit', rootKey: target.key });
        assert.equal(still.status, 200);
      });

      it('answers 404, not 403, to a limited root key deleting a missing root key', async () => {
        const limited = await createRootKey(['audit.read']);
        const response = await app.request({
          method: 'DELETE',
          url: '/v1/root-keys/root_00000000000000000000',
          rootKey: limited.key,
        });
        assertProblem(response, 404, 'NOT_FOUND');
      });
    });

    describe('authentication', () => {
      it('answers 401 with a problem body when no Authorization header is sent', async () => {
        const response = await app.request({ method: 'GET', url: '/v1/root-keys', rootKey: null });

        assert.equal(response.status, 401);
        assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
        assert.deepEqual(Object.keys(response.body).sort(), [
          'code',
          'detail',
          'requestId',
          'status',
          'title',
          'type',
        ]);
        assert.equal(response.body.code, 'UNAUTHORIZED');
        assert.equal(response.body.status, 401);
        assert.equal(typeof response.body.type, 'string');
        assert.equal(typeof response.body.title, 'string');
        assert.equal(typeof response.body.detail, 'string');
        assert.match(response.body.requestId, /^req_/);
      });

      it('answers 401 to a wrong, malformed or non-Bearer Authorization header', async () => {
        const apiResponse = await app.request({
          method: 'POST',
          url: '/v1/apis',
          body: { name: 'k' },
        });
        const apiKey = await app.request({
          method: 'POST',
          url: `/v1/apis/${apiResponse.body.id}/keys`,
          body: {},
        });
        const headers = [
          'Bearer',
          'Bearer ',
          `Bearer ${generateKey('kg_root')}`,
          `Bearer ${generateKey('kg')}`,
          `Bearer ${app.rootKey}x`,
          `Bearer ${app.rootKey.slice(0, -1)}`,
          `Bearer ${'a'.repeat(600)}`,
          `Bearer ${apiKey.body.key}`,
          `Basic ${Buffer.from(`user:${app.rootKey}`).toString('base64')}`,
          `Token ${app.rootKey}`,
          app.rootKey,
        ];

        for (const authorization of headers) {
          const response = await app.request({
            method: 'GET',
            url: '/v1/root-keys',
            rootKey: null,
            headers: { authorization },
          });
          assertProblem(response, 401, 'UNAUTHORIZED');
        }
      });

      it('accepts the Bearer scheme in any letter case, as HTTP authentication schemes are', {}, async () => {
        for (const scheme of ['bearer', 'BEARER']) {
          const response = await app.request({
            method: 'GET',
            url: '/v1/root-keys',
            rootKey: null,
            headers: { authorization: `${scheme} ${app.rootKey}` },
          });
          assert.equal(response.status, 200, `${scheme}: ${response.text}`);
        }
      });

      it('never lets an API key authenticate, even one that looks like a root key', async () => {
        const apiResponse = await app.request({
          method: 'POST',
          url: '/v1/apis',
          body: { name: 'lookalike', prefix: 'kg_root' },
        });
        const apiKey = await app.request({
          method: 'POST',
          url: `/v1/apis/${apiResponse.body.id}/keys`,
          body: { permissions: ['*'] },
        });
        assert.match(apiKey.body.key, /^kg_root_/);

        const response = await app.request({
          method: 'GET',
          url: '/v1/root-keys',
          rootKey: apiKey.body.key,
        });
        assertProblem(response, 401, 'UNAUTHORIZED');
      });

      it('answers 401 before 400 and before 404', async () => {
        const invalid = await app.request({
          method: 'POST',
          url: '/v1/root-keys',
          body: { nonsense: 1 },
          rootKey: null,
        });
        assertProblem(invalid, 401, 'UNAUTHORIZED');
        const missing = await app.request({
          method: 'DELETE',
          url: '/v1/root-keys/root_00000000000000000000',
          rootKey: generateKey('kg_root'),
        });
        assertProblem(missing, 401, 'UNAUTHORIZED');
      });
    });
  });
}
