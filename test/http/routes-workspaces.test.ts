import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKey, KEY_PATTERN } from '../../src/core/key-format.ts';
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

for (const kind of storeKinds) {
  describe(`POST /v1/workspaces (${kind})`, () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp(kind);
    });

    after(() => app.close());

    const createRequest = (body: unknown, rootKey?: string) =>
      app.request({ method: 'POST', url: '/v1/workspaces', body, rootKey });

    async function createWorkspace(name = 'acme') {
      const response = await createRequest({ name });
      assert.equal(response.status, 201, response.text);
      return response.body as { id: string; name: string; createdAt: string; rootKey: string };
    }

    async function createRootKey(permissions: string[], rootKey?: string) {
      return app.request({
        method: 'POST',
        url: '/v1/root-keys',
        body: { name: 'limited', permissions },
        rootKey,
      });
    }

    it('creates a workspace and shows its first root key once', async () => {
      const response = await createRequest({ name: 'acme corp' });

      assert.equal(response.status, 201, response.text);
      assert.deepEqual(Object.keys(response.body).sort(), ['createdAt', 'id', 'name', 'rootKey']);
      assert.match(response.body.id, /^ws_[0-9A-Za-z]{20}$/);
      assert.equal(response.body.name, 'acme corp');
      assert.equal(response.body.createdAt, new Date(app.clock()).toISOString());
      assert.match(response.body.rootKey, /^kg_root_/);
      assert.match(response.body.rootKey, KEY_PATTERN);
      assert.notEqual(response.body.rootKey, app.rootKey);
    });

    it('gives the new workspace a root key that can do everything in it', async () => {
      const { rootKey } = await createWorkspace();

      const api = await app.request({
        method: 'POST',
        url: '/v1/apis',
        body: { name: 'tenant api' },
        rootKey,
      });
      assert.equal(api.status, 201, api.text);
      const key = await app.request({
        method: 'POST',
        url: `/v1/apis/${api.body.id}/keys`,
        body: {},
        rootKey,
      });
      assert.equal(key.status, 201, key.text);
      const verified = await app.request({
        method: 'POST',
        url: '/v1/keys/verify',
        body: { key: key.body.key },
        rootKey,
      });
      assert.equal(verified.body.code, 'VALID');
      const rolled = await app.request({
        method: 'POST',
        url: `/v1/keys/${key.body.id}/roll`,
        body: {},
        rootKey,
      });
      assert.equal(rolled.status, 201, rolled.text);
      const audit = await app.request({ method: 'GET', url: '/v1/audit', rootKey });
      assert.equal(audit.status, 200, audit.text);
      const granted = await createRootKey(['api.*', 'root_key.*', 'audit.read'], rootKey);
      assert.equal(granted.status, 201, granted.text);
      const deleted = await app.request({
        method: 'DELETE',
        url: `/v1/apis/${api.body.id}`,
        rootKey,
      });
      assert.equal(deleted.status, 204);
    });

    it('starts the new workspace with only its first root key and no APIs', async () => {
      const { rootKey } = await createWorkspace();

      const apis = await app.request({ method: 'GET', url: '/v1/apis', rootKey });
      assert.deepEqual(apis.body, { items: [], nextCursor: null });
      const rootKeys = await app.request({ method: 'GET', url: '/v1/root-keys', rootKey });
      assert.equal(rootKeys.status, 200);
      assert.equal(rootKeys.body.items.length, 1);
      assert.ok(rootKey.startsWith(rootKeys.body.items[0].start));
      assert.ok(!rootKeys.body.items[0].permissions.includes('*'));
    });

    it('does not let the new workspace’s root key create workspaces or grant that right', async () => {
      const { rootKey } = await createWorkspace();

      const response = await createRequest({ name: 'nested' }, rootKey);
      assertProblem(response, 403, 'FORBIDDEN');
      assert.match(response.body.detail, /workspace\.create/);
      for (const permissions of [['*'], ['workspace.create'], ['workspace.*']]) {
        assertProblem(await createRootKey(permissions, rootKey), 403, 'FORBIDDEN');
      }
    });

    it('answers 403 to a root key without workspace.create', async () => {
      const limited = await createRootKey(['api.*', 'root_key.*', 'audit.*']);
      assertProblem(await createRequest({ name: 'x' }, limited.body.key), 403, 'FORBIDDEN');
    });

    it('lets workspace.create and workspace.* create a workspace', async () => {
      for (const permission of ['workspace.create', 'workspace.*']) {
        const holder = await createRootKey([permission]);
        const response = await createRequest({ name: permission }, holder.body.key);
        assert.equal(response.status, 201, response.text);
      }
    });

    it('refuses a missing, empty or unknown field with 400 naming it', async () => {
      assertProblem(await createRequest({}), 400, 'BAD_REQUEST', 'name');
      assertProblem(await createRequest({ name: '' }), 400, 'BAD_REQUEST', 'name');
      assertProblem(await createRequest({ name: 'x', plan: 'pro' }), 400, 'BAD_REQUEST', 'plan');
    });

    it('answers 401 without a valid root key', async () => {
      for (const rootKey of [null, generateKey('kg_root')]) {
        const response = await app.request({
          method: 'POST',
          url: '/v1/workspaces',
          body: { name: 'x' },
          rootKey,
        });
        assertProblem(response, 401, 'UNAUTHORIZED');
      }
    });
  });
}
