import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateKey } from '../../src/core/key-format.ts';
import { startTestApp, TEST_PEPPER, type TestApp } from '../support/app.ts';
import { storeKinds } from '../support/databases.ts';
import { startServerProcess } from '../support/server-process.ts';
import { bodyOf, type Method, send } from './corpus.ts';

const HEX_HASH = /[0-9a-f]{64}/i;

/** The secrets of a session: every key and root key shown, and every bearer or key sent. */
class Secrets {
  readonly all = new Set<string>();

  add(...secrets: (string | undefined)[]): void {
    for (const secret of secrets) if (secret) this.all.add(secret);
  }

  /** Adds the secrets an answer shows: `key` of keys and root keys, `rootKey` of workspaces. */
  addShown(body: unknown): void {
    const { key, rootKey } = (body ?? {}) as { key?: unknown; rootKey?: unknown };
    if (typeof key === 'string') this.add(key);
    if (typeof rootKey === 'string') this.add(rootKey);
  }

  /** The secrets, and the random part of each key, which a log might show without its prefix. */
  needles(): string[] {
    return [...this.all].flatMap((secret) => {
      const random = secret.slice(secret.lastIndexOf('_') + 1);
      return random.length >= 16 && random !== secret ? [secret, random] : [secret];
    });
  }

  /** Asserts that none of the secrets, nor any hex hash, appears in `text`. */
  assertAbsentFrom(text: string): void {
    const leaked = this.needles().filter((needle) => text.includes(needle));
    assert.deepEqual(leaked, [], 'secrets appear in the output');
    assert.equal(HEX_HASH.exec(text)?.[0], undefined, 'a 64-hex hash appears in the output');
  }
}

interface Sent {
  method: Method;
  status: number;
  requestId?: string;
}

/**
 * Runs a realistic session: workspaces, root keys, APIs and keys made, read, changed, verified,
 * rolled, revoked and erased, with refusals of every kind on the way.
 */
async function runSession(t: TestApp, secrets: Secrets): Promise<Sent[]> {
  const sent: Sent[] = [];
  const call = async (
    method: Method,
    url: string,
    body?: unknown,
    options: { rootKey?: string; contentType?: string } = {},
  ) => {
    const rootKey = options.rootKey ?? t.rootKey;
    secrets.add(rootKey);
    const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
    const answer = await send(
      t,
      {
        method,
        url,
        ...(payload === undefined ? {} : { payload }),
        ...(options.contentType ? { contentType: options.contentType } : {}),
      },
      rootKey,
    );
    secrets.addShown(answer.body);
    const { requestId } = bodyOf(answer);
    sent.push({
      method,
      status: answer.status,
      ...(typeof requestId === 'string' ? { requestId } : {}),
    });
    return bodyOf(answer);
  };

  const tenant = await call('POST', '/v1/workspaces', { name: 'tenant' });
  await call('GET', '/v1/apis', undefined, { rootKey: String(tenant.rootKey) });
  const robot = await call('POST', '/v1/root-keys', {
    name: 'ci',
    permissions: ['api.*.verify_key', 'api.*.read_key'],
  });
  const robotKey = String(robot.key);
  await call('GET', '/v1/root-keys');

  const api = await call('POST', '/v1/apis', { name: 'payments', prefix: 'pay' });
  await call('GET', '/v1/apis');
  await call('GET', `/v1/apis/${api.id}`);
  const keys = `/v1/apis/${api.id}/keys`;
  const first = await call('POST', keys, {
    name: 'acme',
    externalId: 'acme-inc',
    meta: { plan: 'pro' },
    permissions: ['read'],
    credits: { remaining: 100, refill: { interval: 'daily', amount: 100 } },
    ratelimits: [{ name: 'requests', limit: 10, duration: 1000 }],
  });
  const second = await call('POST', keys, {});
  const firstKey = String(first.key);
  await call('GET', `/v1/keys/${first.id}`);
  await call('GET', `${keys}?externalId=acme-inc`);
  await call('PATCH', `/v1/keys/${first.id}`, { name: 'acme corp', meta: { plan: 'team' } });

  const verify = (body: unknown, rootKey = robotKey) =>
    call('POST', '/v1/keys/verify', body, { rootKey });
  const unknownKey = generateKey('pay');
  const wrongBearer = generateKey('kg_root');
  secrets.add(unknownKey, wrongBearer, 'garbage-that-is-no-key-at-all-0123456789');
  await verify({ key: firstKey });
  await verify({ key: firstKey, permissions: 'read AND write' });
  await verify({ key: unknownKey });
  await verify({ key: 'garbage-that-is-no-key-at-all-0123456789' });
  await verify({ key: firstKey, cost: -1 });
  await verify({ key: firstKey, permissions: 'read AND (' });
  await verify(`{"key":"${firstKey}",`);
  await verify({ key: firstKey, padding: 'x'.repeat(70 * 1024) });
  await verify({ key: firstKey }, wrongBearer);
  await verify({ key: firstKey }, firstKey);
  await verify({ key: firstKey }, String(tenant.rootKey));
  await call('POST', '/v1/keys/verify', `key=${firstKey}`, {
    contentType: 'application/x-www-form-urlencoded',
  });

  const rolled = await call('POST', `/v1/keys/${first.id}/roll`, { gracePeriodMs: 60_000 });
  await verify({ key: String(rolled.key) });
  await call('DELETE', `/v1/keys/${second.id}`);
  await verify({ key: String(second.key) });
  await call('POST', `/v1/keys/${second.id}/roll`, {});
  await call('DELETE', `/v1/keys/${rolled.id}?permanent=true`);
  await verify({ key: String(rolled.key) });

  await call('GET', '/v1/keys/key_0000000000000000000000');
  await call(
    'POST',
    '/v1/root-keys',
    { name: 'escalate', permissions: ['*'] },
    { rootKey: robotKey },
  );
  await call('POST', keys, { expiresAt: '2030-12-31T23:59:60Z' });
  await call('GET', '/v1/no-such-route');
  await call('DELETE', `/v1/root-keys/${robot.id}`);
  await verify({ key: firstKey });
  await call('GET', '/v1/audit?limit=100');
  return sent;
}

/** The log's lines, each parsed as JSON: pino writes nothing else. */
function logLines(t: TestApp): Record<string, unknown>[] {
  return t
    .logs()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const isRequestLine = (line: Record<string, unknown>) =>
  typeof line.reqId === 'string' && 'route' in line && 'status' in line && 'ms' in line;

for (const kind of storeKinds) {
  describe(`the log of a session on ${kind}`, () => {
    let t: TestApp;
    const secrets = new Secrets();
    let sent: Sent[];

    before(async () => {
      t = await startTestApp(kind);
      secrets.add(TEST_PEPPER);
      sent = await runSession(t, secrets);
      // The line of the last request is written once its answer has gone out.
      await new Promise((resolve) => setImmediate(resolve));
    });

    after(() => t?.close());

    it('went through successes and refusals of every kind', () => {
      const statuses = new Set(sent.map((item) => item.status));
      for (const status of [200, 201, 204, 400, 401, 403, 404, 409, 413, 415]) {
        assert.ok(statuses.has(status), `no request answered ${status}`);
      }
    });

    it('holds no key, root key, bearer, pepper or hash', () => {
      assert.ok(secrets.all.size >= 10, 'the session made the secrets it should');
      secrets.assertAbsentFrom(t.logs());
    });

    it('has exactly one line per request, with reqId, route, status and ms', () => {
      const lines = logLines(t).filter(isRequestLine);
      const seen = (list: readonly { method?: unknown; status?: unknown }[]) =>
        list.map((item) => `${item.method} ${item.status}`).sort();

      assert.equal(lines.length, sent.length);
      assert.equal(new Set(lines.map((line) => line.reqId)).size, sent.length);
      assert.deepEqual(seen(lines), seen(sent));
      for (const line of lines) assert.equal(typeof line.ms, 'number');
      for (const { requestId } of sent.filter((item) => item.requestId)) {
        assert.equal(lines.filter((line) => line.reqId === requestId).length, 1, requestId);
      }
    });

    it('has a line for a request refused before routing', {}, async () => {
      const before = logLines(t).filter(isRequestLine).length;
      await send(t, { method: 'GET', url: '/v1/keys/%' });
      await send(t, { method: 'GET', url: `/v1/keys/${'k'.repeat(101)}` });
      await new Promise((resolve) => setImmediate(resolve));

      assert.equal(logLines(t).filter(isRequestLine).length, before + 2);
    });
  });
}

/** A few calls over HTTP to a running server, remembering every secret shown or sent. */
async function talkTo(url: string, rootKey: string, secrets: Secrets): Promise<number> {
  let calls = 0;
  const call = async (method: Method, path: string, body?: unknown, bearer = rootKey) => {
    calls += 1;
    secrets.add(bearer);
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    secrets.addShown(parsed);
    return parsed;
  };

  const api = await call('POST', '/v1/apis', { name: 'payments' });
  const key = await call('POST', `/v1/apis/${api.id}/keys`, { name: 'acme' });
  const secret = String(key.key);
  const stranger = generateKey('kg');
  secrets.add(stranger);
  await call('POST', '/v1/keys/verify', { key: secret });
  await call('POST', '/v1/keys/verify', { key: stranger });
  await call('POST', '/v1/keys/verify', { key: secret, cost: -1 });
  await call('POST', '/v1/keys/verify', `{"key":"${secret}"`);
  await call('POST', '/v1/keys/verify', { key: secret }, generateKey('kg_root'));
  const rolled = await call('POST', `/v1/keys/${key.id}/roll`, {});
  await call('DELETE', `/v1/keys/${rolled.id}`);
  await call('POST', '/v1/root-keys', { name: 'robot', permissions: ['api.*.verify_key'] });
  return calls;
}

// The embedded store is what `npm start` runs; the in-process suites above cover PostgreSQL.
describe('the output of the real server', () => {
  it('prints and logs no secret when KEYGATE_ROOT_KEY is set', async () => {
    const secrets = new Secrets();
    const rootKey = generateKey('kg_root');
    const pepper = randomBytes(32).toString('base64url');
    secrets.add(rootKey, pepper);

    const server = await startServerProcess({
      KEYGATE_ROOT_KEY: rootKey,
      KEYGATE_PEPPER: pepper,
      KEYGATE_LOG_LEVEL: 'debug',
    });
    let calls = 0;
    try {
      calls = await talkTo(server.url, rootKey, secrets);
    } finally {
      assert.equal(await server.stop(), 0);
    }

    const output = server.output();
    const requestLines = output.split('\n').filter((line) => line.includes('"route":"/v1/'));
    assert.equal(requestLines.length, calls, 'one log line per call');
    assert.ok(!output.includes('created your root key'), 'the bootstrap key was announced');
    secrets.assertAbsentFrom(output);
  });
});
