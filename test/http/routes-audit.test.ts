import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKey } from '../../src/core/key-format.ts';
import { startTestApp, type TestApp, type TestRequest, type TestResponse } from '../support/app.ts';
import { storeKinds } from '../support/databases.ts';

const USER_AGENT = 'audit-test/1.0 (keygate)';
const EVENT_FIELDS = [
  'action',
  'actorId',
  'changes',
  'createdAt',
  'id',
  'ip',
  'targetId',
  'targetType',
  'userAgent',
];

interface AuditEvent {
  id: string;
  actorId: string;
  action: string;
  targetType: string;
  targetId: string;
  ip: string | null;
  userAgent: string | null;
  changes: Record<string, unknown> | null;
  createdAt: string;
}

/** The name a `key.update` event changed the key's name to. */
function renamedTo(event: AuditEvent): unknown {
  const change = event.changes?.name as { to?: unknown } | undefined;
  return change?.to;
}

function assertProblem(response: TestResponse, status: number, code: string) {
  assert.equal(response.status, status, response.text);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  assert.equal(response.body.status, status);
  assert.equal(response.body.code, code);
  assert.match(response.body.requestId, /^req_/);
}

for (const kind of storeKinds) {
  describe(`GET /v1/audit (${kind})`, () => {
    let app: TestApp;
    let bootstrapId: string;

    before(async () => {
      app = await startTestApp(kind);
      const rootKeys = await app.request({ method: 'GET', url: '/v1/root-keys' });
      bootstrapId = rootKeys.body.items.find(
        (item: { name: string }) => item.name === 'bootstrap',
      ).id;
    });

    after(() => app.close());

    /** Sends a mutation from a recognisable user agent, a millisecond after the last one. */
    async function mutate(request: TestRequest, status: number) {
      app.clock.advance(1);
      const response = await app.request({
        ...request,
        headers: { 'user-agent': USER_AGENT, ...request.headers },
      });
      assert.equal(response.status, status, response.text);
      return response;
    }

    const createApi = async () =>
      (await mutate({ method: 'POST', url: '/v1/apis', body: { name: 'audited' } }, 201)).body
        .id as string;

    const createKey = async (apiId: string, body: Record<string, unknown> = {}) =>
      (await mutate({ method: 'POST', url: `/v1/apis/${apiId}/keys`, body }, 201)).body as {
        id: string;
        key: string;
      };

    /** Every event matching `query`, newest first, following cursors. */
    async function allEvents(query = '', rootKey?: string): Promise<AuditEvent[]> {
      const events: AuditEvent[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const after: string = cursor === null ? '' : `&cursor=${cursor}`;
        const response = await app.request({
          method: 'GET',
          url: `/v1/audit?limit=100${query}${after}`,
          rootKey,
        });
        assert.equal(response.status, 200, response.text);
        events.push(...response.body.items);
        cursor = response.body.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 1000);
      return events;
    }

    /** The one event of `action` on `targetId`. */
    async function eventOf(action: string, targetId: string): Promise<AuditEvent> {
      const events = await allEvents(`&action=${action}&targetId=${targetId}`);
      assert.equal(events.length, 1, `expected one ${action} event on ${targetId}`);
      const [event] = events;
      assert.ok(event);
      assert.deepEqual(Object.keys(event).sort(), EVENT_FIELDS);
      assert.match(event.id, /^evt_/);
      return event;
    }

    /** Asserts who did it and from where: the bootstrap root key, from the test's user agent. */
    function assertOrigin(event: AuditEvent, actorId = bootstrapId) {
      assert.equal(event.actorId, actorId);
      assert.equal(event.ip, '127.0.0.1');
      assert.equal(event.userAgent, USER_AGENT);
      assert.equal(event.createdAt, new Date(app.clock()).toISOString());
    }

    describe('an event for every mutation', () => {
      it('records workspace creation', async () => {
        const created = await mutate(
          { method: 'POST', url: '/v1/workspaces', body: { name: 'tenant' } },
          201,
        );
        const event = await eventOf('workspace.create', created.body.id);

        assertOrigin(event);
        assert.equal(event.targetType, 'workspace');
        assert.deepEqual(event.changes, { name: 'tenant' });
      });

      it('records root key creation and deletion', async () => {
        const created = await mutate(
          {
            method: 'POST',
            url: '/v1/root-keys',
            body: { name: 'ci', permissions: ['audit.read'] },
          },
          201,
        );
        const createEvent = await eventOf('root_key.create', created.body.id);
        assertOrigin(createEvent);
        assert.equal(createEvent.targetType, 'root_key');
        assert.deepEqual(createEvent.changes, { name: 'ci', permissions: ['audit.read'] });

        await mutate({ method: 'DELETE', url: `/v1/root-keys/${created.body.id}` }, 204);
        const deleteEvent = await eventOf('root_key.delete', created.body.id);
        assertOrigin(deleteEvent);
        assert.equal(deleteEvent.targetType, 'root_key');
        assert.deepEqual(deleteEvent.changes, { name: 'ci' });
      });

      it('records API creation and deletion', async () => {
        const created = await mutate(
          { method: 'POST', url: '/v1/apis', body: { name: 'billing', prefix: 'bill' } },
          201,
        );
        const apiId = created.body.id;
        const createEvent = await eventOf('api.create', apiId);
        assertOrigin(createEvent);
        assert.equal(createEvent.targetType, 'api');
        assert.deepEqual(createEvent.changes, { name: 'billing', prefix: 'bill' });

        await createKey(apiId);
        await mutate({ method: 'DELETE', url: `/v1/apis/${apiId}` }, 204);
        const deleteEvent = await eventOf('api.delete', apiId);
        assertOrigin(deleteEvent);
        assert.equal(deleteEvent.targetType, 'api');
        assert.deepEqual(deleteEvent.changes, { name: 'billing', keysDeleted: 1 });
      });

      it('records key creation with its settings', async () => {
        const apiId = await createApi();
        const key = await createKey(apiId, {
          name: 'svc',
          externalId: 'customer_9',
          meta: { a: 1 },
          permissions: ['read'],
        });

        const event = await eventOf('key.create', key.id);

        assertOrigin(event);
        assert.equal(event.targetType, 'key');
        assert.deepEqual(event.changes, {
          apiId,
          name: 'svc',
          externalId: 'customer_9',
          meta: { a: 1 },
          permissions: ['read'],
          enabled: true,
          expiresAt: null,
          credits: null,
          ratelimits: [],
        });
      });

      it('records a key update with what changed, from and to', async () => {
        const key = await createKey(await createApi(), { name: 'old', permissions: ['read'] });

        await mutate(
          {
            method: 'PATCH',
            url: `/v1/keys/${key.id}`,
            body: { name: 'new', enabled: false, permissions: ['read'] },
          },
          200,
        );

        const event = await eventOf('key.update', key.id);
        assertOrigin(event);
        assert.equal(event.targetType, 'key');
        assert.deepEqual(event.changes, {
          name: { from: 'old', to: 'new' },
          enabled: { from: true, to: false },
        });
      });

      it('records a key revocation and a key deletion', async () => {
        const apiId = await createApi();
        const key = await createKey(apiId);

        await mutate({ method: 'DELETE', url: `/v1/keys/${key.id}` }, 200);
        const revokeEvent = await eventOf('key.revoke', key.id);
        assertOrigin(revokeEvent);
        assert.equal(revokeEvent.targetType, 'key');

        await mutate({ method: 'DELETE', url: `/v1/keys/${key.id}?permanent=true` }, 204);
        const deleteEvent = await eventOf('key.delete', key.id);
        assertOrigin(deleteEvent);
        assert.equal(deleteEvent.targetType, 'key');
        assert.deepEqual(deleteEvent.changes, { apiId });
      });

      it('records a roll on the old key, naming the new one', async () => {
        const key = await createKey(await createApi());

        const rolled = await mutate(
          { method: 'POST', url: `/v1/keys/${key.id}/roll`, body: { gracePeriodMs: 5000 } },
          201,
        );

        const event = await eventOf('key.roll', key.id);
        assertOrigin(event);
        assert.equal(event.targetType, 'key');
        assert.equal(event.changes?.newKeyId, rolled.body.id);
        assert.equal(event.changes?.gracePeriodMs, 5000);
      });

      it('names the root key that acted', async () => {
        const created = await app.request({
          method: 'POST',
          url: '/v1/root-keys',
          body: { name: 'operator', permissions: ['api.*'] },
        });
        const operator = created.body as { id: string; key: string };

        const api = await mutate(
          { method: 'POST', url: '/v1/apis', body: { name: 'theirs' }, rootKey: operator.key },
          201,
        );

        assertOrigin(await eventOf('api.create', api.body.id), operator.id);
      });

      it('records no event for a refused mutation', async () => {
        const key = await createKey(await createApi());
        await mutate(
          {
            method: 'PATCH',
            url: `/v1/keys/${key.id}`,
            body: { expiresAt: new Date(app.clock() - 1).toISOString() },
          },
          400,
        );
        await mutate({ method: 'DELETE', url: `/v1/keys/${key.id}`, rootKey: null }, 401);

        assert.deepEqual(
          (await allEvents(`&targetId=${key.id}`)).map((event) => event.action),
          ['key.create'],
        );
      });

      it('shows the first start, done by `system`', async () => {
        const events = await allEvents('&action=root_key.create');
        const bootstrap = events.find((event) => event.targetId === bootstrapId);

        assert.ok(bootstrap);
        assert.equal(bootstrap.actorId, 'system');
        assert.equal(bootstrap.ip, null);
        assert.deepEqual(bootstrap.changes, { name: 'bootstrap', permissions: ['*'] });
      });

      it('shows timestamps inside changes as ISO 8601 strings, like the rest of the API', {}, async () => {
        const expiresAt = new Date(app.clock() + 60 * 60 * 1000).toISOString();
        const key = await createKey(await createApi(), { expiresAt });

        const event = await eventOf('key.create', key.id);

        assert.equal(event.changes?.expiresAt, expiresAt);
      });
    });

    describe('order, filters and pages', () => {
      it('lists events newest first', async () => {
        const key = await createKey(await createApi());
        await mutate({ method: 'PATCH', url: `/v1/keys/${key.id}`, body: { name: 'a' } }, 200);
        await mutate({ method: 'PATCH', url: `/v1/keys/${key.id}`, body: { name: 'b' } }, 200);
        await mutate({ method: 'DELETE', url: `/v1/keys/${key.id}` }, 200);

        const events = await allEvents(`&targetId=${key.id}`);

        assert.deepEqual(
          events.map((event) => event.action),
          ['key.revoke', 'key.update', 'key.update', 'key.create'],
        );
        assert.deepEqual(events[1]?.changes, { name: { from: 'a', to: 'b' } });
        const times = events.map((event) => Date.parse(event.createdAt));
        assert.deepEqual(
          times,
          [...times].sort((a, b) => b - a),
        );
      });

      it('lists events newest first even when they happen in the same millisecond', {}, async () => {
        const key = await createKey(await createApi());
        const names = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8'];
        for (const name of names) {
          const response = await app.request({
            method: 'PATCH',
            url: `/v1/keys/${key.id}`,
            body: { name },
          });
          assert.equal(response.status, 200);
        }

        const events = await allEvents(`&action=key.update&targetId=${key.id}`);

        assert.deepEqual(
          events.map((event) => renamedTo(event)),
          [...names].reverse(),
        );
      });

      it('filters by action', async () => {
        const apiId = await createApi();
        await createKey(apiId);

        const events = await allEvents('&action=api.create');

        assert.ok(events.length > 0);
        assert.ok(events.every((event) => event.action === 'api.create'));
        assert.ok(events.some((event) => event.targetId === apiId));
      });

      it('filters by targetId, and by action and targetId together', async () => {
        const key = await createKey(await createApi());
        const other = await createKey(await createApi());
        await mutate({ method: 'DELETE', url: `/v1/keys/${key.id}` }, 200);

        const byTarget = await allEvents(`&targetId=${key.id}`);
        assert.deepEqual(
          byTarget.map((event) => event.action),
          ['key.revoke', 'key.create'],
        );
        assert.ok(byTarget.every((event) => event.targetId === key.id));
        const both = await allEvents(`&action=key.create&targetId=${key.id}`);
        assert.deepEqual(
          both.map((event) => event.targetId),
          [key.id],
        );
        assert.deepEqual(await allEvents(`&action=key.revoke&targetId=${other.id}`), []);
      });

      it('pages with limit and cursor, newest first across pages, ending with nextCursor null', async () => {
        const key = await createKey(await createApi());
        for (const name of ['a', 'b', 'c', 'd', 'e']) {
          await mutate({ method: 'PATCH', url: `/v1/keys/${key.id}`, body: { name } }, 200);
        }

        const pages: AuditEvent[][] = [];
        let cursor: string | null = null;
        do {
          const after: string = cursor === null ? '' : `&cursor=${cursor}`;
          const response = await app.request({
            method: 'GET',
            url: `/v1/audit?limit=2&targetId=${key.id}${after}`,
          });
          assert.equal(response.status, 200, response.text);
          assert.deepEqual(Object.keys(response.body).sort(), ['items', 'nextCursor']);
          pages.push(response.body.items);
          cursor = response.body.nextCursor;
        } while (cursor !== null && pages.length < 10);

        assert.deepEqual(
          pages.map((page) => page.length),
          [2, 2, 2],
        );
        assert.deepEqual(
          pages.flat().map((event) => event.action),
          ['key.update', 'key.update', 'key.update', 'key.update', 'key.update', 'key.create'],
        );
        assert.deepEqual(
          pages
            .flat()
            .slice(0, 5)
            .map((event) => renamedTo(event)),
          ['e', 'd', 'c', 'b', 'a'],
        );
      });

      it('refuses a forged cursor with 400', async () => {
        const response = await app.request({ method: 'GET', url: '/v1/audit?cursor=forged' });
        assertProblem(response, 400, 'BAD_REQUEST');
      });
    });

    it('holds no secret and no hash in any event', async () => {
      const secrets = [app.rootKey];
      const rootKey = await mutate(
        {
          method: 'POST',
          url: '/v1/root-keys',
          body: { name: 'secretive', permissions: ['api.*'] },
        },
        201,
      );
      secrets.push(rootKey.body.key);
      const workspace = await mutate(
        { method: 'POST', url: '/v1/workspaces', body: { name: 'secret tenant' } },
        201,
      );
      secrets.push(workspace.body.rootKey);
      const apiId = await createApi();
      const key = await createKey(apiId, { name: 'secret holder' });
      secrets.push(key.key);
      const rolled = await mutate(
        { method: 'POST', url: `/v1/keys/${key.id}/roll`, body: { gracePeriodMs: 1000 } },
        201,
      );
      secrets.push(rolled.body.key);
      await mutate(
        { method: 'PATCH', url: `/v1/keys/${rolled.body.id}`, body: { name: 'x' } },
        200,
      );
      await mutate({ method: 'DELETE', url: `/v1/keys/${rolled.body.id}` }, 200);
      await mutate({ method: 'DELETE', url: `/v1/keys/${key.id}?permanent=true` }, 204);
      await mutate({ method: 'DELETE', url: `/v1/root-keys/${rootKey.body.id}` }, 204);

      const text = JSON.stringify(await allEvents());

      for (const secret of secrets) assert.ok(!text.includes(secret), 'an event holds a secret');
      for (const secret of secrets) {
        const random = secret.slice(secret.lastIndexOf('_') + 1);
        assert.ok(!text.includes(random), 'an event holds the random part of a secret');
      }
      assert.doesNotMatch(text, /[0-9a-f]{64}/i);
      assert.doesNotMatch(text, /"hash"/i);
    });

    describe('permissions', () => {
      it('answers 403 to a root key without audit.read', async () => {
        const created = await app.request({
          method: 'POST',
          url: '/v1/root-keys',
          body: { name: 'no audit', permissions: ['api.*', 'root_key.*'] },
        });
        const response = await app.request({
          method: 'GET',
          url: '/v1/audit',
          rootKey: created.body.key,
        });

        assertProblem(response, 403, 'FORBIDDEN');
        assert.match(response.body.detail, /audit\.read/);
      });

      it('lets audit.read and audit.* read the trail', async () => {
        for (const permission of ['audit.read', 'audit.*']) {
          const created = await app.request({
            method: 'POST',
            url: '/v1/root-keys',
            body: { name: 'auditor', permissions: [permission] },
          });
          const response = await app.request({
            method: 'GET',
            url: '/v1/audit?limit=1',
            rootKey: created.body.key,
          });
          assert.equal(response.status, 200, response.text);
        }
      });

      it('answers 401 without a valid root key', async () => {
        for (const rootKey of [null, generateKey('kg_root')]) {
          assertProblem(
            await app.request({ method: 'GET', url: '/v1/audit', rootKey }),
            401,
            'UNAUTHORIZED',
          );
        }
      });
    });
  });
}
