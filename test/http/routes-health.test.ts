import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.ts';
import { storeKinds } from '../support/databases.ts';

/** Every `/v1` operation the server has, as the OpenAPI document should name it. */
const V1_OPERATIONS: Record<string, string[]> = {
  '/v1/workspaces': ['post'],
  '/v1/root-keys': ['get', 'post'],
  '/v1/root-keys/{rootKeyId}': ['delete'],
  '/v1/apis': ['get', 'post'],
  '/v1/apis/{apiId}': ['delete', 'get'],
  '/v1/apis/{apiId}/keys': ['get', 'post'],
  '/v1/keys/{keyId}': ['delete', 'get', 'patch'],
  '/v1/keys/{keyId}/roll': ['post'],
  '/v1/keys/{keyId}/credits': ['post'],
  '/v1/keys/verify': ['post'],
  '/v1/identities': ['get', 'post'],
  '/v1/identities/{externalId}': ['delete', 'get', 'patch'],
  '/v1/identities/{externalId}/credits': ['post'],
  '/v1/ratelimits/{namespace}/limit': ['post'],
  '/v1/ratelimits/{namespace}/overrides/{identifier}': ['delete', 'get', 'put'],
  '/v1/audit': ['get'],
  '/v1/usage': ['get'],
  '/v1/usage/top': ['get'],
};

for (const kind of storeKinds) {
  describe(`health and documentation routes (${kind})`, () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp(kind);
    });

    after(() => app.close());

    it('answers /healthz with 200 and no root key', async () => {
      const response = await app.request({ method: 'GET', url: '/healthz', rootKey: null });

      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { status: 'ok' });
    });

    it('answers /readyz with 200 while the store is reachable', async () => {
      const response = await app.request({ method: 'GET', url: '/readyz', rootKey: null });

      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { status: 'ready' });
    });

    it('ignores a wrong Authorization header on the health routes', async () => {
      for (const url of ['/healthz', '/readyz', '/openapi.json']) {
        const response = await app.request({ method: 'GET', url, rootKey: 'not a root key' });
        assert.equal(response.status, 200, url);
      }
    });

    it('serves an OpenAPI 3.1 document naming every /v1 operation', async () => {
      const response = await app.request({ method: 'GET', url: '/openapi.json', rootKey: null });

      assert.equal(response.status, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const document = response.body;
      assert.match(document.openapi, /^3\.1\./);
      assert.equal(typeof document.info.title, 'string');
      assert.equal(typeof document.info.version, 'string');
      const v1Paths = Object.keys(document.paths).filter((path) => path.startsWith('/v1/'));
      assert.deepEqual(v1Paths.sort(), Object.keys(V1_OPERATIONS).sort());
      for (const [path, methods] of Object.entries(V1_OPERATIONS)) {
        assert.deepEqual(Object.keys(document.paths[path]).sort(), methods, path);
      }
      assert.ok(document.paths['/healthz']);
      assert.ok(document.paths['/readyz']);
    });

    it('describes root key authentication as a bearer scheme in the document', async () => {
      const document = (await app.request({ method: 'GET', url: '/openapi.json', rootKey: null }))
        .body;
      const schemes = Object.values(document.components.securitySchemes) as {
        type: string;
        scheme: string;
      }[];
      assert.ok(schemes.some((scheme) => scheme.type === 'http' && scheme.scheme === 'bearer'));
    });

    it('serves the documentation page as HTML at /docs', async () => {
      const response = await app.request({ method: 'GET', url: '/docs', rootKey: null });

      assert.equal(response.status, 200);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.match(response.text, /<html/i);
    });

    it('answers an unknown route with a 404 problem', async () => {
      for (const url of ['/nowhere', '/v1/nowhere']) {
        const response = await app.request({ method: 'GET', url });
        assert.equal(response.status, 404, url);
        assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
        assert.equal(response.body.code, 'NOT_FOUND');
        assert.match(response.body.requestId, /^req_/);
      }
    });
  });
}
