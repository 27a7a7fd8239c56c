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

const MISSING_API = 'api_00000000000000000000';

for (const kind of storeKinds) {
  describe(`API routes (${kind})`, () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp(kind);
    });

    after(() => app.close());

    async function createApi(body: Record<string, unknown> = { name: 'payments' }) {
      const response = await app.request({ method: 'POST', url: '/v1/apis', body });
      assert.equal(response.status, 201, response.text);
      return response.body as { id: string; name: string; prefix: string; createdAt: string };
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

    /** Every API id the root key sees, following cursors. */
    async function listAllApis(rootKey?: string, limit = 100): Promise<string[]> {
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor === null ? '' : `&cursor=${cursor}`;
        const response = await app.request({
          method: 'GET',
          url: `/v1/apis?limit=${limit}${query}`,
          rootKey,
        });
        assert.equal(response.status, 200, response.text);
        ids.push(...response.body.items.map((api: { id: string }) => api.id));
        cursor = response.body.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 1000);
      return ids;
    }

    describe('POST /v1/apis', () => {
      it('creates an API with the default prefix kg', async () => {
        const response = await app.request({
          method: 'POST',
          url: '/v1/apis',
          body: { name: 'payments' },
        });

        assert.equal(response.status, 201, response.text);
        assert.deepEqual(Object.keys(response.body).sort(), ['createdAt', 'id', 'name', 'prefix']);
        assert.match(response.body.id, /^api_[0-9A-Za-z]{20}$/);
        assert.equal(response.body.name, 'payments');
        assert.equal(response.body.prefix, 'kg');
        assert.equal(response.body.createdAt, new Date(app.clock()).toISOString());
      });

      it('creates an API with its own prefix', async () => {
        const api = await createApi({ name: 'search', prefix: 'search_v2' });
        assert.equal(api.prefix, 'search_v2');
      });

      it('refuses a prefix that cannot start a key with 400 naming `prefix`', async () => {
        for (const prefix of ['Acme', 'acme_', '1acme', 'ac-me', 'a'.repeat(21), '']) {
          const response = await app.request({
            method: 'POST',
            url: '/v1/apis',
            body: { name: 'bad prefix', prefix },
          });
          assertProblem(response, 400, 'BAD_REQUEST', 'prefix');
        }
      });

      it('refuses a missing name or an unknown field with 400 naming it', async () => {
        const noName = await app.request({ method: 'POST', url: '/v1/apis', body: {} });
        assertProblem(noName, 400, 'BAD_REQUEST', 'name');
        const unknown = await app.request({
          method: 'POST',
          url: '/v1/apis',
          body: { name: 'x', color: 'blue' },
        });
        assertProblem(unknown, 400, 'BAD_REQUEST', 'color');
      });

      it('answers 403 to a root key without api.*.create_api', async () => {
        const api = await createApi();
        const rootKey = await createRootKey([`api.${api.id}.*`, 'api.*.read_api']);
        const response = await app.request({
          method: 'POST',
          url: '/v1/apis',
          body: { name: 'x' },
          rootKey,
        });

        assertProblem(response, 403, 'FORBIDDEN');
        assert.match(response.body.detail, /api\.\*\.create_api/);
      });

      it('lets api.*.create_api create an API', async () => {
        const rootKey = await createRootKey(['api.*.create_api']);
        const response = await app.request({
          method: 'POST',
          url: '/v1/apis',
          body: { name: 'x' },
          rootKey,
        });
        assert.equal(response.status, 201, response.text);
      });
    });

    describe('GET /v1/apis/{apiId}', () => {
      it('reads an API as it was created', async () => {
        const api = await createApi({ name: 'reads', prefix: 'rd' });
        const response = await app.request({ method: 'GET', url: `/v1/apis/${api.id}` });

        assert.equal(response.status, 200);
        assert.deepEqual(response.body, api);
      });

      it('answers 404 for an API that does not exist', async () => {
        const response = await app.request({ method: 'GET', url: `/v1/apis/${MISSING_API}` });
        assertProblem(response, 404, 'NOT_FOUND');
      });

      it('answers 403 without api.<id>.read_api, and 200 with it or a wildcard', async () => {
        const api = await createApi();
        const get = (rootKey: string) =>
          app.request({ method: 'GET', url: `/v1/apis/${api.id}`, rootKey });

        assertProblem(await get(await createRootKey([`api.${api.id}.read_key`])), 403, 'FORBIDDEN');
        for (const permission of [`api.${api.id}.read_api`, 'api.*.read_api', `api.${api.id}.*`]) {
          assert.equal((await get(await createRootKey([permission]))).status, 200, permission);
        }
      });

      it('answers 404, not 403, to a limited root key asking for a missing API', async () => {
        const rootKey = await createRootKey(['audit.read']);
        for (const method of ['GET', 'DELETE'] as const) {
          const response = await app.request({ method, url: `/v1/apis/${MISSING_API}`, rootKey });
          assertProblem(response, 404, 'NOT_FOUND');
        }
      });
    });

    describe('GET /v1/apis', () => {
      it('pages through every API with limit and ends with nextCursor null', async () => {
        const created = [await createApi(), await createApi(), await createApi()];
        const all = await listAllApis();

        const paged: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = cursor === null ? '' : `&cursor=${cursor}`;
          const response = await app.request({ method: 'GET', url: `/v1/apis?limit=2${query}` });
          assert.equal(response.status, 200, response.text);
          assert.deepEqual(Object.keys(response.body).sort(), ['items', 'nextCursor']);
          assert.ok(response.body.items.length <= 2);
          paged.push(...response.body.items.map((api: { id: string }) => api.id));
          cursor = response.body.nextCursor;
          pages += 1;
        } while (cursor !== null && pages < 1000);

        assert.ok(pages > 2);
        assert.deepEqual(paged, all);
        assert.equal(new Set(paged).size, paged.length);
        for (const api of created) assert.ok(paged.includes(api.id));
      });

      it('lists only the APIs the root key may read', async () => {
        const readable = await createApi();
        const hidden = await createApi();
        const rootKey = await createRootKey([
          `api.${readable.id}.read_api`,
          `api.${hidden.id}.read_key`,
        ]);

        const seen = await listAllApis(rootKey);

        assert.deepEqual(seen, [readable.id]);
      });

      it('lists every API to api.*.read_api', async () => {
        const api = await createApi();
        const rootKey = await createRootKey(['api.*.read_api']);
        assert.deepEqual(await listAllApis(rootKey), await listAllApis());
        assert.ok((await listAllApis(rootKey)).includes(api.id));
      });

      it('refuses a forged cursor with 400', async () => {
        const response = await app.request({ method: 'GET', url: '/v1/apis?cursor=forged' });
        assertProblem(response, 400, 'BAD_REQUEST');
      });
    });

    describe('DELETE /v1/apis/{apiId}', () => {
      it('deletes an API with its keys: 204, then 404, and its keys verify NOT_FOUND', async () => {
        const api = await createApi();
        const key = await app.request({ method: 'POST', url: `/v1/apis/${api.id}/keys`, body: {} });
        const verify = () =>
          app.request({ method: 'POST', url: '/v1/keys/verify', body: { key: key.body.key } });
        assert.equal((await verify()).body.code, 'VALID');

        const response = await app.request({ method: 'DELETE', url: `/v1/apis/${api.id}` });

        assert.equal(response.status, 204);
        assert.equal(response.text, '');
        assertProblem(
          await app.request({ method: 'GET', url: `/v1/apis/${api.id}` }),
          404,
          'NOT_FOUND',
        );
        assertProblem(
          await app.request({ method: 'GET', url: `/v1/keys/${key.body.id}` }),
          404,
          'NOT_FOUND',
        );
        assertProblem(
          await app.request({ method: 'GET', url: `/v1/apis/${api.id}/keys` }),
          404,
          'NOT_FOUND',
        );
        const verified = await verify();
        assert.equal(verified.status, 200);
        assert.deepEqual(verified.body, { valid: false, code: 'NOT_FOUND' });
        assert.ok(!(await listAllApis()).includes(api.id));
      });

      it('answers 404 for an API that does not exist or was deleted', async () => {
        const api = await createApi();
        await app.request({ method: 'DELETE', url: `/v1/apis/${api.id}` });

        for (const id of [api.id, MISSING_API]) {
          const response = await app.request({ method: 'DELETE', url: `/v1/apis/${id}` });
          assertProblem(response, 404, 'NOT_FOUND');
        }
      });

      it('answers 403 without api.<id>.delete_api, and keeps the API', async () => {
        const api = await createApi();
        const rootKey = await createRootKey([`api.${api.id}.read_api`, `api.${api.id}.delete_key`]);

        const response = await app.request({
          method: 'DELETE',
          url: `/v1/apis/${api.id}`,
          rootKey,
        });

        assertProblem(response, 403, 'FORBIDDEN');
        assert.match(response.body.detail, new RegExp(`api\\.${api.id}\\.delete_api`));
        assert.equal((await app.request({ method: 'GET', url: `/v1/apis/${api.id}` })).status, 200);
      });

      it('lets api.<id>.delete_api delete that API', async () => {
        const api = await createApi();
        const rootKey = await createRootKey([`api.${api.id}.delete_api`]);
        const response = await app.request({
          method: 'DELETE',
          url: `/v1/apis/${api.id}`,
          rootKey,
        });
        assert.equal(response.status, 204);
      });
    });

    it('answers 401 on every API route without a valid root key', async () => {
      const api = await createApi();
      const requests = [
        { method: 'POST', url: '/v1/apis', body: { name: 'x' } },
        { method: 'GET', url: '/v1/apis' },
        { method: 'GET', url: `/v1/apis/${api.id}` },
        { method: 'GET', url: `/v1/apis/${MISSING_API}` },
        { method: 'DELETE', url: `/v1/apis/${api.id}` },
      ] as const;

      for (const request of requests) {
        for (const rootKey of [null, generateKey('kg_root')]) {
          assertProblem(await app.request({ ...request, rootKey }), 401, 'UNAUTHORIZED');
        }
      }
      assert.equal((await app.request({ method: 'GET', url: `/v1/apis/${api.id}` })).status, 200);
    });
  });
}
