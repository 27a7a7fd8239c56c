import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { generateKey } from '../../src/core/key-format.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const VERIFY = '/v1/keys/verify';

/** An answer without its request id, which differs between any two requests. */
function seen(response: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  const body = JSON.parse(response.body) as Record<string, unknown>;
  delete body.requestId;
  return {
    status: response.statusCode,
    contentType: String(response.headers['content-type']),
    body,
  };
}

/** Sends raw bytes on a fresh connection and answers what came back before it closed. */
function sendRaw(port: number, bytes: string, hangUpAfterMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let received = '';
    socket.on('data', (chunk) => {
      received += String(chunk);
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    if (hangUpAfterMs !== undefined) setTimeout(() => socket.destroy(), hangUpAfterMs);
  });
}

describe('the verify fast path', () => {
  let t: TestApp;
  let port: number;
  const keys: Record<string, string> = {};
  let apiId = '';
  let otherApiRootKey = '';

  before(async () => {
    t = await startTestApp('sqlite');
    const post = async (url: string, body: unknown) => {
      const response = await t.request({ method: 'POST', url, body });
      assert.ok(response.status < 300, response.text);
      return response.body as { id: string; key: string };
    };
    apiId = (await post('/v1/apis', { name: 'search' })).id;
    const create = async (name: string, body: Record<string, unknown> = {}) => {
      keys[name] = (await post(`/v1/apis/${apiId}/keys`, { name, ...body })).key;
    };
    await create('plain');
    await create('permitted', { permissions: ['search.read'], meta: { plan: 'pro' } });
    await create('disabled', { enabled: false });
    await create('expired', { expiresAt: new Date(t.clock() + 1000).toISOString() });
    t.clock.advance(2000);
    await create('limited', {
      ratelimits: [{ name: 'per-minute', limit: 1000, duration: 60_000, autoApply: false }],
      credits: { remaining: 50 },
    });
    const other = await post('/v1/apis', { name: 'other' });
    otherApiRootKey = (
      await post('/v1/root-keys', {
        name: 'other',
        permissions: [`api.${other.id}.verify_key`],
      })
    ).key;

    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  after(() => t.close());

  it('answers every verification exactly as the Fastify route does', async () => {
    const cases: { body: string; authorization?: string }[] = [
      { body: JSON.stringify({ key: keys.plain }) },
      { body: JSON.stringify({ key: keys.plain, apiId }) },
      { body: JSON.stringify({ key: keys.plain, apiId: 'api_someOtherApi' }) },
      { body: JSON.stringify({ key: keys.permitted, permissions: 'search.read' }) },
      { body: JSON.stringify({ key: keys.permitted, permissions: 'search.write OR admin' }) },
      { body: JSON.stringify({ key: keys.permitted, permissions: 'search.read AND (' }) },
      { body: JSON.stringify({ key: keys.disabled }) },
      { body: JSON.stringify({ key: keys.expired }) },
      {
        body: JSON.stringify({
          key: keys.limited,
          cost: 0,
          ratelimits: [{ name: 'per-minute', cost: 0 }],
        }),
      },
      { body: JSON.stringify({ key: keys.limited, ratelimits: [{ name: 'nope' }] }) },
      { body: JSON.stringify({ key: generateKey('kg') }) },
      { body: JSON.stringify({ key: `${keys.plain}x` }) },
      { body: JSON.stringify({ key: 'kg_\u0000\u00e9' }) },
      { body: JSON.stringify({ key: 'x'.repeat(513) }) },
      { body: JSON.stringify({ key: 42 }) },
      { body: JSON.stringify({ key: keys.plain, cost: -1 }) },
      { body: JSON.stringify({ key: keys.plain, cost: 1.5 }) },
      { body: JSON.stringify({ key: keys.plain, extra: true }) },
      { body: JSON.stringify({ key: keys.plain, tags: 'not-a-list' }) },
      { body: JSON.stringify([keys.plain]) },
      { body: '{"key":' },
      { body: '' },
      { body: '{"__proto__":{"admin":true},"key":"x"}' },
      { body: JSON.stringify({ key: keys.plain }), authorization: 'Bearer kg_root_nothing' },
      { body: JSON.stringify({ key: keys.plain }), authorization: '' },
      { body: JSON.stringify({ key: keys.plain }), authorization: `Bearer ${otherApiRootKey}` },
    ];

    for (const { body, authorization = `Bearer ${t.rootKey}` } of cases) {
      const request = {
        method: 'POST' as const,
        url: VERIFY,
        headers: { 'content-type': 'application/json', authorization },
        payload: body,
      };
      const fast = seen(await t.inject(request));
      const fastify = seen(await t.app.inject(request));
      assert.deepEqual(fast, fastify, `for ${body.slice(0, 80)} with "${authorization}"`);
    }
  });

  it('serves a real socket and logs one line per verification', async () => {
    const response = await fetch(`http://127.0.0.1:${port}${VERIFY}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.rootKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: keys.plain }),
    });

    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { code: string }).code, 'VALID');
    const lines = t
      .logs()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const last = lines.at(-1);
    assert.equal(last.msg, 'request');
    assert.equal(last.route, VERIFY);
    assert.equal(last.status, 200);
    assert.match(last.reqId, /^req_/);
    assert.equal(typeof last.ms, 'number');
  });

  it('answers many verifications at once, each with its own key, over real sockets', async () => {
    const sent = Array.from({ length: 60 }, (_, index) => {
      const name = ['plain', 'permitted', 'disabled', 'limited'][index % 4] ?? 'plain';
      return { name, key: keys[name] ?? '' };
    });
    const expected = new Map<string, { keyId: string; code: string }>();
    for (const { name, key } of sent) {
      const { body } = await t.request({ method: 'POST', url: VERIFY, body: { key, cost: 0 } });
      expected.set(name, { keyId: body.keyId as string, code: body.code as string });
    }

    const answers = await Promise.all(
      sent.map(async ({ key }) => {
        const response = await fetch(`http://127.0.0.1:${port}${VERIFY}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.rootKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ key, cost: 0 }),
        });
        return (await response.json()) as { keyId: string; code: string };
      }),
    );

    answers.forEach((answer, index) => {
      const { name } = sent[index] ?? { name: '' };
      assert.deepEqual({ keyId: answer.keyId, code: answer.code }, expected.get(name), name);
    });
    assert.deepEqual(new Set(answers.map((answer) => answer.code)), new Set(['VALID', 'DISABLED']));
  });

  it('refuses a body over 64 KiB with a 413 before reading it', async () => {
    const head = [
      `POST ${VERIFY} HTTP/1.1`,
      'Host: keygate',
      `Authorization: Bearer ${t.rootKey}`,
      'Content-Type: application/json',
      `Content-Length: ${1024 * 1024}`,
      '',
      '',
    ].join('\r\n');

    const answer = await sendRaw(port, `${head}{"key":"`);

    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /application\/problem\+json/);
    assert.match(answer, /"code":"PAYLOAD_TOO_LARGE"/);
  });

  it('refuses a chunked body that grows past 64 KiB', async () => {
    const response = await fetch(`http://127.0.0.1:${port}${VERIFY}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.rootKey}`, 'content-type': 'application/json' },
      body: new Blob([`{"key":"${'a'.repeat(70 * 1024)}"}`]).stream(),
      duplex: 'half',
    } as RequestInit);

    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { code: string }).code, 'PAYLOAD_TOO_LARGE');
  });

  it('answers pipelined requests on one connection in order, waiting or not', async () => {
    const request = (key: string, close = false) => {
      const body = JSON.stringify({ key });
      return [
        `POST ${VERIFY} HTTP/1.1`,
        'Host: keygate',
        `Authorization: Bearer ${t.rootKey}`,
        'Content-Type: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        ...(close ? ['Connection: close'] : []),
        '',
        body,
      ].join('\r\n');
    };
    // A key never seen is looked up in the store, so its answer is decided after the others'.
    const unknown = generateKey('kg');

    const raw = await sendRaw(
      port,
      request(unknown) + request(keys.plain ?? '') + request(keys.disabled ?? '', true),
    );

    const codes = raw
      .split('HTTP/1.1 ')
      .slice(1)
      .map(
        (answer) => (JSON.parse(answer.slice(answer.indexOf('\r\n\r\n'))) as { code: string }).code,
      );
    assert.deepEqual(codes, ['NOT_FOUND', 'VALID', 'DISABLED']);
  });

  it('keeps serving after a client hangs up in the middle of its body', async () => {
    const head = [
      `POST ${VERIFY} HTTP/1.1`,
      'Host: keygate',
      `Authorization: Bearer ${t.rootKey}`,
      'Content-Type: application/json',
      'Content-Length: 100',
      '',
      '',
    ].join('\r\n');

    assert.equal(await sendRaw(port, `${head}{"key":`, 50), '');

    const response = await t.request({ method: 'POST', url: VERIFY, body: { key: keys.plain } });
    assert.equal(response.body.code, 'VALID');
  });

  it('leaves other content types and query strings to the Fastify route', async () => {
    const headers = { authorization: `Bearer ${t.rootKey}` };
    const text = await t.inject({
      method: 'POST',
      url: VERIFY,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: JSON.stringify({ key: keys.plain }),
    });
    assert.equal(text.statusCode, 415);
    assert.equal(JSON.parse(text.body).code, 'UNSUPPORTED_MEDIA_TYPE');

    const withQuery = await t.inject({
      method: 'POST',
      url: `${VERIFY}?trace=1`,
      headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify({ key: keys.plain }),
    });
    assert.equal(withQuery.statusCode, 200);
    assert.equal(JSON.parse(withQuery.body).code, 'VALID');
  });
});
