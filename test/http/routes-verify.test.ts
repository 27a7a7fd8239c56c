import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKey } from '../../src/core/key-format.ts';
import { startTestApp, type TestApp, type TestResponse } from '../support/app.ts';
import { storeKinds } from '../support/databases.ts';

const HOUR = 60 * 60 * 1000;

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

/** The key with the character at `index` swapped for another of the same alphabet. */
function changeCharacter(key: string, index: number): string {
  const replacement = key[index] === 'A' ? 'B' : 'A';
  return `${key.slice(0, index)}${replacement}${key.slice(index + 1)}`;
}

for (const kind of storeKinds) {
  describe(`POST /v1/keys/verify (${kind})`, () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp(kind);
    });

    after(() => app.close());

    async function createApi() {
      const response = await app.request({
        method: 'POST',
        url: '/v1/apis',
        body: { name: 'search' },
      });
      assert.equal(response.status, 201, response.text);
      return response.body.id as string;
    }

    async function createKey(apiId: string, body: Record<string, unknown> = {}) {
      const response = await app.request({ method: 'POST', url: `/v1/apis/${apiId}/keys`, body });
      assert.equal(response.status, 201, response.text);
      return response.body as { id: string; key: string };
    }

    async function createRootKey(permissions: string[]) {
      const response = await app.request({
        method: 'POST',
        url: '/v1/root-keys',
        body: { name: 'verifier', permissions },
      });
      assert.equal(response.status, 201, response.text);
      return response.body.key as string;
    }

    const verifyRequest = (body: Record<string, unknown>, rootKey?: string) =>
      app.request({ method: 'POST', url: '/v1/keys/verify', body, rootKey });

    async function verify(body: Record<string, unknown>, rootKey?: string) {
      const response = await verifyRequest(body, rootKey);
      assert.equal(response.status, 200, response.text);
      return response.body as { valid: boolean; code: string } & Record<string, unknown>;
    }

    const codeOf = async (body: Record<string, unknown>, rootKey?: string) =>
      (await verify(body, rootKey)).code;

    const patch = async (id: string, body: Record<string, unknown>) => {
      const response = await app.request({ method: 'PATCH', url: `/v1/keys/${id}`, body });
      assert.equal(response.status, 200, response.text);
    };

    /** Counts the store's key lookups while `run` runs. */
    async function countStoreLookups(run: () => Promise<void>): Promise<number> {
      const store = app.keygate.store;
      const original = store.findKeyByHash;
      let lookups = 0;
      store.findKeyByHash = (hash) => {
        lookups += 1;
        return original.call(store, hash);
      };
      try {
        await run();
      } finally {
        store.findKeyByHash = original;
      }
      return lookups;
    }

    it('answers a valid key with 200, VALID and the key’s details', async () => {
      const apiId = await createApi();
      const expiresAt = new Date(app.clock() + HOUR).toISOString();
      const created = await createKey(apiId, {
        name: 'mobile app',
        externalId: 'customer_7',
        meta: { plan: 'team' },
        permissions: ['search.query'],
        expiresAt,
      });

      const response = await verifyRequest({ key: created.key });

      assert.equal(response.status, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.deepEqual(response.body, {
        valid: true,
        code: 'VALID',
        keyId: created.id,
        apiId,
        name: 'mobile app',
        externalId: 'customer_7',
        meta: { plan: 'team' },
        permissions: ['search.query'],
        enabled: true,
        expiresAt,
        credits: { remaining: null },
        ratelimits: [],
      });
      assert.ok(!response.text.includes(created.key));
      assert.doesNotMatch(response.text, /[0-9a-f]{64}/i);
    });

    it('answers VALID with nulls for a key without settings', async () => {
      const apiId = await createApi();
      const created = await createKey(apiId);

      assert.deepEqual(await verify({ key: created.key }), {
        valid: true,
        code: 'VALID',
        keyId: created.id,
        apiId,
        name: null,
        externalId: null,
        meta: null,
        permissions: [],
        enabled: true,
        expiresAt: null,
        credits: { remaining: null },
        ratelimits: [],
      });
    });

    it('accepts cost and tags on a verification', async () => {
      const created = await createKey(await createApi());
      const outcome = await verify({ key: created.key, cost: 0, tags: ['region:eu', 'beta'] });
      assert.equal(outcome.code, 'VALID');
    });

    describe('MALFORMED', () => {
      it('answers 200 MALFORMED, and nothing else, for keys that are not well-formed', async () => {
        const created = await createKey(await createApi());
        const random = created.key.indexOf('_') + 1;
        const checksum = created.key.slice(-6);
        const otherChecksum = checksum === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA';
        const malformed = {
          garbage: 'not a key at all',
          'only a prefix': 'kg_',
          truncated: created.key.slice(0, -1),
          'one character too many': `${created.key}A`,
          'one random character changed': changeCharacter(created.key, random + 5),
          'the first random character changed': changeCharacter(created.key, random),
          'a wrong checksum': `${created.key.slice(0, -6)}${otherChecksum}`,
          'an upper-case prefix': `KG${created.key.slice(2)}`,
          'a space inside': `${created.key.slice(0, 10)} ${created.key.slice(11)}`,
        };

        for (const [what, key] of Object.entries(malformed)) {
          const response = await verifyRequest({ key });
          assert.equal(response.status, 200, `${what}: ${response.text}`);
          assert.deepEqual(response.body, { valid: false, code: 'MALFORMED' }, what);
        }
      });

      it('never reaches the store for a malformed key', async () => {
        const created = await createKey(await createApi());
        const lookups = await countStoreLookups(async () => {
          for (const key of [
            'garbage',
            created.key.slice(0, -3),
            changeCharacter(created.key, 8),
            `${created.key.slice(0, -6)}000000`,
          ]) {
            assert.equal(await codeOf({ key }), 'MALFORMED');
          }
        });
        assert.equal(lookups, 0);
      });

      it('does reach the store for a well-formed unknown key', async () => {
        const lookups = await countStoreLookups(async () => {
          assert.equal(await codeOf({ key: generateKey('kg') }), 'NOT_FOUND');
        });
        assert.equal(lookups, 1);
      });
    });

    describe('NOT_FOUND', () => {
      it('answers NOT_FOUND, with no details, for a well-formed key that was never issued', async () => {
        const response = await verifyRequest({ key: generateKey('kg') });

        assert.equal(response.status, 200);
        assert.deepEqual(response.body, { valid: false, code: 'NOT_FOUND' });
      });

      it('answers NOT_FOUND for a key of another API when apiId is given', async () => {
        const own = await createApi();
        const other = await createApi();
        const created = await createKey(other);

        assert.deepEqual(await verify({ key: created.key, apiId: own }), {
          valid: false,
          code: 'NOT_FOUND',
        });
        assert.equal(
          await codeOf({ key: created.key, apiId: 'api_00000000000000000000' }),
          'NOT_FOUND',
        );
        assert.equal(await codeOf({ key: created.key, apiId: other }), 'VALID');
      });

      it('answers NOT_FOUND when the root key may not verify keys of that API', async () => {
        const apiId = await createApi();
        const otherApi = await createApi();
        const created = await createKey(apiId);
        const refused = [
          await createRootKey([`api.${apiId}.read_key`, `api.${apiId}.create_key`]),
          await createRootKey([`api.${otherApi}.verify_key`]),
          await createRootKey([`api.${otherApi}.*`, 'audit.read']),
        ];

        for (const rootKey of refused) {
          const response = await verifyRequest({ key: created.key }, rootKey);
          assert.equal(response.status, 200, response.text);
          assert.deepEqual(response.body, { valid: false, code: 'NOT_FOUND' });
        }
      });

      it('lets api.*.verify_key, api.<id>.verify_key, api.<id>.* and * verify', async () => {
        const apiId = await createApi();
        const created = await createKey(apiId);
        const allowed = [
          await createRootKey(['api.*.verify_key']),
          await createRootKey([`api.${apiId}.verify_key`]),
          await createRootKey([`api.${apiId}.*`]),
          await createRootKey(['api.*']),
          app.rootKey,
        ];

        for (const rootKey of allowed) {
          assert.equal(await codeOf({ key: created.key }, rootKey), 'VALID');
        }
      });
    });

    describe('the order of the checks', () => {
      it('answers REVOKED over DISABLED over EXPIRED over INSUFFICIENT_PERMISSIONS as each is added', async () => {
        const created = await createKey(await createApi(), {
          permissions: ['read'],
          expiresAt: new Date(app.clock() + 1000).toISOString(),
        });
        const request = { key: created.key, permissions: 'write' };
        assert.equal(await codeOf(request), 'INSUFFICIENT_PERMISSIONS');

        app.clock.advance(1000);
        assert.equal(await codeOf(request), 'EXPIRED');

        await patch(created.id, { enabled: false });
        assert.equal(await codeOf(request), 'DISABLED');

        const revoked = await app.request({ method: 'DELETE', url: `/v1/keys/${created.id}` });
        assert.equal(revoked.status, 200);
        const outcome = await verify(request);
        assert.equal(outcome.valid, false);
        assert.equal(outcome.code, 'REVOKED');
        assert.equal(outcome.keyId, created.id);
      });

      it('answers DISABLED, then EXPIRED, then INSUFFICIENT_PERMISSIONS, then VALID as each is removed', async () => {
        const created = await createKey(await createApi(), {
          permissions: ['read'],
          enabled: false,
          expiresAt: new Date(app.clock() + 1000).toISOString(),
        });
        app.clock.advance(1000);
        const request = { key: created.key, permissions: 'write' };

        const disabled = await verify(request);
        assert.equal(disabled.code, 'DISABLED');
        assert.equal(disabled.valid, false);
        assert.equal(disabled.enabled, false);
        assert.equal(disabled.keyId, created.id);

        await patch(created.id, { enabled: true });
        assert.equal(await codeOf(request), 'EXPIRED');

        await patch(created.id, { expiresAt: null });
        assert.equal(await codeOf(request), 'INSUFFICIENT_PERMISSIONS');

        await patch(created.id, { permissions: ['read', 'write'] });
        assert.deepEqual(await verify(request).then(({ valid, code }) => ({ valid, code })), {
          valid: true,
          code: 'VALID',
        });
      });

      it('answers EXPIRED from the very millisecond of expiresAt', async () => {
        const created = await createKey(await createApi(), {
          expiresAt: new Date(app.clock() + 5000).toISOString(),
        });

        app.clock.advance(4999);
        assert.equal(await codeOf({ key: created.key }), 'VALID');
        app.clock.advance(1);
        assert.equal(await codeOf({ key: created.key }), 'EXPIRED');
      });

      it('checks that the key exists before whether the root key may see it', async () => {
        const apiId = await createApi();
        const rootKey = await createRootKey([`api.${apiId}.verify_key`]);
        assert.equal(await codeOf({ key: 'garbage' }, rootKey), 'MALFORMED');
        assert.equal(await codeOf({ key: generateKey('kg') }, rootKey), 'NOT_FOUND');
      });
    });

    describe('permission queries', () => {
      const held = ['documents.read', 'documents.write', 'billing.*'];
      const cases: [query: string, code: string][] = [
        ['documents.read', 'VALID'],
        ['documents.delete', 'INSUFFICIENT_PERMISSIONS'],
        ['documents.read AND documents.write', 'VALID'],
        ['documents.read AND documents.delete', 'INSUFFICIENT_PERMISSIONS'],
        ['documents.delete OR documents.read', 'VALID'],
        ['documents.delete OR admin', 'INSUFFICIENT_PERMISSIONS'],
        ['documents.read OR documents.delete AND admin', 'VALID'],
        ['(documents.read OR documents.delete) AND admin', 'INSUFFICIENT_PERMISSIONS'],
        ['admin AND documents.delete OR documents.write', 'VALID'],
        ['admin AND (documents.delete OR documents.write)', 'INSUFFICIENT_PERMISSIONS'],
        ['documents.read AND (admin OR (billing.invoices AND documents.write))', 'VALID'],
        ['((documents.read))', 'VALID'],
        ['billing.invoices.read', 'VALID'],
        ['billing', 'INSUFFICIENT_PERMISSIONS'],
      ];

      for (const [query, code] of cases) {
        it(`answers ${code} for "${query}" to a key holding ${held.join(', ')}`, async () => {
          const created = await createKey(await createApi(), { permissions: held });
          const outcome = await verify({ key: created.key, permissions: query });
          assert.equal(outcome.code, code);
          assert.equal(outcome.valid, code === 'VALID');
        });
      }

      const syntaxErrors: [query: string, position: number][] = [
        ['documents.read AND', 18],
        ['(documents.read OR admin', 24],
        ['documents.read documents.write', 15],
        ['documents.read & admin', 15],
        ['documents.read and admin', 15],
        ['documents.read)', 14],
        ['AND admin', 0],
      ];

      for (const [query, position] of syntaxErrors) {
        it(`refuses "${query}" with 400 saying it fails at position ${position}`, async () => {
          const created = await createKey(await createApi());
          const response = await verifyRequest({ key: created.key, permissions: query });

          assertProblem(response, 400, 'BAD_REQUEST', 'permissions');
          assert.ok(response.body.detail.includes(`position ${position}`), response.body.detail);
          assert.ok(
            response.body.errors[0].message.includes(`position ${position}`),
            response.body.errors[0].message,
          );
        });
      }

      it('refuses a query nested deeper than 16 levels with 400', async () => {
        const created = await createKey(await createApi());
        const query = `${'('.repeat(17)}documents.read${')'.repeat(17)}`;
        assertProblem(
          await verifyRequest({ key: created.key, permissions: query }),
          400,
          'BAD_REQUEST',
          'permissions',
        );
      });

      it('refuses a query that does not parse even when the key is malformed', async () => {
        const response = await verifyRequest({ key: 'garbage', permissions: 'a AND' });
        assertProblem(response, 400, 'BAD_REQUEST', 'permissions');
      });
    });

    it('refuses a rate limit the key does not have with 400 naming it', {}, async () => {
      const created = await createKey(await createApi());
      const response = await verifyRequest({
        key: created.key,
        ratelimits: [{ name: 'no-such-limit' }],
      });
      assertProblem(response, 400, 'BAD_REQUEST');
      assert.match(response.body.errors[0].path, /^ratelimits/);
    });

    describe('authentication', () => {
      it('answers 401 without a root key, with a wrong one, or with an API key', async () => {
        const created = await createKey(await createApi());
        for (const rootKey of [null, generateKey('kg_root'), created.key, 'garbage']) {
          assertProblem(
            await verifyRequest({ key: created.key }, rootKey as string),
            401,
            'UNAUTHORIZED',
          );
        }
      });

      it('answers 401, not 400, to a malformed request without a root key', async () => {
        const response = await app.request({
          method: 'POST',
          url: '/v1/keys/verify',
          body: { nonsense: true },
          rootKey: null,
        });
        assertProblem(response, 401, 'UNAUTHORIZED');
      });
    });
  });
}
