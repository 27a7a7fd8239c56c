import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  freePort,
  KEYGATE_BIN,
  type ServerProcess,
  startServerProcess,
  withoutKeygateVariables,
} from '../support/server-process.ts';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Key {
  id: string;
  apiId: string;
  start: string;
  key: string;
  name: string | null;
  externalId: string | null;
  meta: Record<string, unknown> | null;
  permissions: string[];
  enabled: boolean;
  revokedAt: string | null;
  rolledFrom: string | null;
}

const KEY_PATTERN = /^[a-z][a-z0-9_]{0,19}_[0-9A-Za-z]{39}$/;

let server: ServerProcess;

/** Runs `keygate ARGS` against the test server; `env` overrides its settings. */
function keygate(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [KEYGATE_BIN, ...args], {
    env: {
      ...withoutKeygateVariables(process.env),
      KEYGATE_URL: server.url,
      KEYGATE_ROOT_KEY: server.rootKey,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `keygate ARGS --json`, expects success and answers the parsed output. */
async function keygateJson<T>(args: string[]): Promise<T> {
  const result = await keygate([...args, '--json']);
  assert.equal(result.code, 0, `keygate ${args.join(' ')} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

async function verify(key: string): Promise<{ code: number | null; answer: { code: string } }> {
  const result = await keygate(['verify', key, '--json']);
  return { code: result.code, answer: JSON.parse(result.stdout) as { code: string } };
}

describe('keygate command line against a real server', () => {
  let apiId: string;
  let key: Key;

  before(async () => {
    server = await startServerProcess();
  });

  after(async () => {
    const code = await server.stop();
    assert.equal(code, 0, `server did not exit cleanly:\n${server.output()}`);
  });

  test('apis create prints the new API as a block', async () => {
    const result = await keygate(['apis', 'create', '--name', 'payments', '--prefix', 'pay']);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^id\s+api_\w+$/m);
    assert.match(result.stdout, /^name\s+payments$/m);
    assert.match(result.stdout, /^prefix\s+pay$/m);
  });

  test('apis list prints a table and --json the raw page', async () => {
    const table = await keygate(['apis', 'list']);
    const page = await keygateJson<{ items: { id: string; name: string }[]; nextCursor: null }>([
      'apis',
      'list',
    ]);

    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+NAME\s+PREFIX\s+CREATED$/m);
    assert.match(table.stdout, /payments\s+pay\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z/);
    const api = page.items.find((item) => item.name === 'payments');
    assert.ok(api, 'the created API is listed');
    apiId = api.id;
  });

  test('keys create with every option answers the key once, with id and start', async () => {
    key = await keygateJson<Key>([
      ...['keys', 'create', '--api', apiId, '--name', 'acme prod'],
      ...['--external-id', 'cust_acme', '--meta', '{"plan":"pro"}'],
      ...['--permission', 'invoices.read', '--permission', 'invoices.write'],
    ]);

    assert.match(key.key, KEY_PATTERN);
    assert.ok(key.key.startsWith('pay_'));
    assert.equal(key.start, key.key.slice(0, 'pay_'.length + 4));
    assert.equal(key.name, 'acme prod');
    assert.equal(key.externalId, 'cust_acme');
    assert.deepEqual(key.meta, { plan: 'pro' });
    assert.deepEqual([...key.permissions].sort(), ['invoices.read', 'invoices.write']);
  });

  test('keys create shows the secret set apart for a person', async () => {
    const result = await keygate(['keys', 'create', '--api', apiId, '--expires', '30d']);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /shown|again/i);
    assert.match(result.stdout, /^\s+pay_[0-9A-Za-z]{39}$/m);
    assert.match(result.stdout, /^id\s+key_\w+$/m);
    assert.match(result.stdout, /^start\s+pay_\w{4}$/m);
  });

  test('keys list prints the expected columns and never a secret', async () => {
    const result = await keygate(['keys', 'list', '--api', apiId]);
    const page = await keygateJson<{ items: Key[] }>(['keys', 'list', '--api', apiId]);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ID\s+START\s+NAME\s+EXTERNAL ID\s+STATUS\s+EXPIRES\s+LAST USED/m);
    assert.match(result.stdout, new RegExp(`${key.id}\\s+${key.start}\\s+acme prod\\s+cust_acme`));
    assert.ok(!result.stdout.includes(key.key));
    assert.equal(page.items.length, 2);
    assert.ok(page.items.every((item) => !('key' in item)));
  });

  test('keys list --external-id filters by owner', async () => {
    const page = await keygateJson<{ items: Key[] }>([
      ...['keys', 'list', '--api', apiId, '--external-id', 'cust_acme'],
    ]);

    assert.deepEqual(
      page.items.map((item) => item.id),
      [key.id],
    );
  });

  test('keys list --all follows every page; one page ends with the next cursor', async () => {
    const onePage = await keygate(['keys', 'list', '--api', apiId, '--limit', '1']);
    const all = await keygateJson<{ items: Key[]; nextCursor: string | null }>([
      ...['keys', 'list', '--api', apiId, '--limit', '1', '--all'],
    ]);

    assert.equal(onePage.code, 0, onePage.stderr);
    assert.match(onePage.stdout, /--cursor \S+/);
    assert.equal(all.items.length, 2);
    assert.equal(all.nextCursor, null);
  });

  test('keys get shows the record as key/value lines', async () => {
    const result = await keygate(['keys', 'get', key.id]);
    const view = await keygateJson<Key>(['keys', 'get', key.id]);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^external id\s+cust_acme$/m);
    assert.match(result.stdout, /^meta\s+\{"plan":"pro"\}$/m);
    assert.match(result.stdout, /^status\s+active$/m);
    assert.equal(view.id, key.id);
    assert.ok(!('key' in view));
  });

  test('keys update --disable makes the key verify as DISABLED with exit status 1', async () => {
    const updated = await keygateJson<Key>(['keys', 'update', key.id, '--disable']);
    const verified = await verify(key.key);

    assert.equal(updated.enabled, false);
    assert.equal(updated.name, 'acme prod', 'omitted fields are kept');
    assert.equal(verified.answer.code, 'DISABLED');
    assert.equal(verified.code, 1);
  });

  test('keys update --enable makes the key verify as VALID with exit status 0', async () => {
    const updated = await keygateJson<Key>(['keys', 'update', key.id, '--enable']);
    const result = await keygate(['verify', key.key, '--api', apiId]);

    assert.equal(updated.enabled, true);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^valid\s+yes$/m);
    assert.match(result.stdout, /^code\s+VALID$/m);
    assert.match(result.stdout, new RegExp(`^key id\\s+${key.id}$`, 'm'));
  });

  test('verify with a permission query checks the permissions', async () => {
    const denied = await keygate(['verify', key.key, '--permissions', 'admin', '--json']);
    const allowed = await keygate([
      ...['verify', key.key, '--permissions', 'invoices.read AND invoices.write', '--json'],
    ]);

    assert.equal(denied.code, 1);
    assert.equal(JSON.parse(denied.stdout).code, 'INSUFFICIENT_PERMISSIONS');
    assert.equal(allowed.code, 0, allowed.stderr);
  });

  test('keys roll answers a new key rolled from the old one', async () => {
    const rolled = await keygateJson<Key>(['keys', 'roll', key.id, '--grace', '1h']);
    const verified = await verify(rolled.key);

    assert.notEqual(rolled.id, key.id);
    assert.notEqual(rolled.key, key.key);
    assert.equal(rolled.rolledFrom, key.id);
    assert.equal(rolled.externalId, 'cust_acme');
    assert.equal(verified.answer.code, 'VALID');
    assert.equal((await verify(key.key)).answer.code, 'VALID', 'the old key lasts its grace');
    key = rolled;
  });

  test('keys revoke makes the key verify as REVOKED', async () => {
    const result = await keygate(['keys', 'revoke', key.id]);
    const verified = await verify(key.key);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^status\s+revoked$/m);
    assert.equal(verified.answer.code, 'REVOKED');
    assert.equal(verified.code, 1);
  });

  test('keys revoke --permanent erases the key', async () => {
    const result = await keygate(['keys', 'revoke', key.id, '--permanent', '--json']);
    const erased = await keygate(['keys', 'get', key.id]);

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { id: key.id, deleted: true });
    assert.equal(erased.code, 1);
    assert.match(erased.stderr, /404/);
  });

  test('an unknown key id is reported as 404 NOT_FOUND with the request id', async () => {
    const result = await keygate(['keys', 'get', 'key_doesnotexist']);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: .+ \(404 NOT_FOUND\)$/m);
    assert.match(result.stderr, /request id: \S+/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  test('a validation error lists each field the server named', async () => {
    const result = await keygate(['apis', 'create', '--name', 'bad', '--prefix', 'Not-A-Prefix']);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: .+ \(400 \w+\)$/m);
    assert.match(result.stderr, /^ {2}\S*prefix\S*: .+$/m);
  });

  test('a wrong root key is reported as 401', async () => {
    const result = await keygate(['apis', 'list'], { KEYGATE_ROOT_KEY: 'not-a-root-key' });

    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: .+ \(401 \w+\)$/m);
  });

  test('a missing root key asks the user to set KEYGATE_ROOT_KEY (exit status 2)', async () => {
    const result = await keygate(['apis', 'list'], { KEYGATE_ROOT_KEY: undefined });

    assert.equal(result.code, 2);
    assert.match(result.stderr, /KEYGATE_ROOT_KEY/);
  });

  test('an unreachable server is one clear line, without a stack trace', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await keygate(['keys', 'list', '--api', 'api_x'], { KEYGATE_URL: url });

    assert.equal(result.code, 1);
    assert.equal(result.stderr, `error: cannot reach keygate at ${url} (connection refused)\n`);
    assert.equal(result.stdout, '');
  });

  test('invalid input on the command line is exit status 2, naming the option', async () => {
    const meta = await keygate(['keys', 'create', '--api', apiId, '--meta', '{nope']);
    const expires = await keygate(['keys', 'create', '--api', apiId, '--expires', 'soon']);
    const grace = await keygate(['keys', 'roll', 'key_x', '--grace', 'a while']);

    for (const [result, option] of [
      [meta, '--meta'],
      [expires, '--expires'],
      [grace, '--grace'],
    ] as const) {
      assert.equal(result.code, 2, `${option}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`error: option '${option} `));
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
  });

  test('keys create --limit --credits --refill sets limits and credits that verify applies', async () => {
    const created = await keygateJson<Key & { credits: unknown; ratelimits: unknown }>([
      'keys',
      'create',
      '--api',
      apiId,
      '--limit',
      '100/1m',
      '--limit',
      'burst=2/1m:token-bucket:burst=2',
      '--credits',
      '3',
      '--refill',
      'monthly@1',
      '--refill-amount',
      '50',
    ]);

    assert.deepEqual(created.credits, {
      remaining: 3,
      refill: { interval: 'monthly', amount: 50, day: 1 },
    });
    assert.deepEqual(created.ratelimits, [
      { name: 'requests', limit: 100, duration: 60_000 },
      { name: 'burst', limit: 2, duration: 60_000, algorithm: 'token-bucket', burst: 2 },
    ]);
    const codes = [];
    for (let i = 0; i < 3; i += 1) codes.push((await verify(created.key)).answer.code);
    assert.deepEqual(codes, ['VALID', 'VALID', 'RATE_LIMITED']);
    const shown = await keygate(['keys', 'get', created.id]);
    assert.match(shown.stdout, /credits\s+1 \(refills to 50 monthly on day 1\)/);
    assert.match(shown.stdout, /burst 2\/1m \(token bucket, burst 2\)/);
  });

  test('keys credits sets, increments and decrements; an unknown operation is exit status 2', async () => {
    const created = await keygateJson<Key>(['keys', 'create', '--api', apiId, '--credits', '0']);

    const denied = await verify(created.key);
    const topped = await keygateJson<{ credits: unknown }>([
      'keys',
      'credits',
      created.id,
      'increment',
      '2',
    ]);
    const allowed = await verify(created.key);
    const wrong = await keygate(['keys', 'credits', created.id, 'double', '2']);

    assert.deepEqual([denied.code, denied.answer.code], [1, 'USAGE_EXCEEDED']);
    assert.deepEqual(topped.credits, { remaining: 2 });
    assert.deepEqual([allowed.code, allowed.answer.code], [0, 'VALID']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /set, increment or decrement/);
  });

  test('identities create, update and list; the keys of a customer share its limits', async () => {
    await keygateJson(['identities', 'create', 'cus_cli', '--limit', '2/1m', '--credits', '10']);
    const first = await keygateJson<Key>([
      'keys',
      'create',
      '--api',
      apiId,
      '--external-id',
      'cus_cli',
    ]);
    const second = await keygateJson<Key>([
      'keys',
      'create',
      '--api',
      apiId,
      '--external-id',
      'cus_cli',
    ]);

    const codes = [
      (await verify(first.key)).answer.code,
      (await verify(second.key)).answer.code,
      (await verify(first.key)).answer.code,
    ];
    const updated = await keygateJson<{ ratelimits: unknown[] }>([
      'identities',
      'update',
      'cus_cli',
      '--no-limits',
    ]);
    const listed = await keygate(['identities', 'list']);

    assert.deepEqual(codes, ['VALID', 'VALID', 'RATE_LIMITED']);
    assert.deepEqual(updated.ratelimits, []);
    assert.equal((await verify(first.key)).answer.code, 'VALID');
    assert.match(listed.stdout, /^EXTERNAL ID\s+ID\s+CREDITS/);
    assert.match(listed.stdout, /cus_cli\s+idt_\w+\s+8/);
  });

  test('ratelimit limit exits 1 once denied, and an override of 0 blocks a pattern', async () => {
    const limit = (identifier: string) =>
      keygate(['ratelimit', 'limit', 'cli-logins', identifier, '--rate', '1/1m']);

    const first = await limit('alice');
    const second = await limit('alice');
    const set = await keygate(['ratelimit', 'override', 'set', 'cli-logins', 'bot_*', '0/1h']);
    const blocked = await limit('bot_7');

    assert.equal(first.code, 0);
    assert.match(first.stdout, /allowed\s+yes/);
    assert.equal(second.code, 1);
    assert.match(second.stdout, /allowed\s+no/);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /limit\s+0 \(blocked\)/);
    assert.equal(blocked.code, 1);
  });

  test('usage shows each outcome seen with its total and trend, as CSV and as JSON', async () => {
    const created = await keygateJson<Key>(['keys', 'create', '--api', apiId]);
    for (let count = 0; count < 3; count += 1) await verify(created.key);
    await keygate(['keys', 'update', created.id, '--disable']);
    await verify(created.key);
    const range = ['--key', created.id, '--granularity', 'minute', '--from', '10m'];

    let usage: { totals: Record<string, number>; series: unknown[] } | undefined;
    for (let attempt = 0; attempt < 50 && (usage?.totals.DISABLED ?? 0) < 1; attempt += 1) {
      await sleep(100);
      usage = await keygateJson(['usage', ...range]);
    }
    const table = await keygate(['usage', ...range]);
    const csv = await keygate(['usage', ...range, '--csv']);
    const wrong = await keygate(['usage', '--granularity', 'week']);

    assert.equal(usage?.totals.VALID, 3);
    assert.equal(usage?.totals.DISABLED, 1);
    assert.equal(usage?.series.length, 11);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Verifications by minute, /);
    assert.match(table.stdout, /^OUTCOME\s+TOTAL\s+TREND$/m);
    assert.match(table.stdout, /^VALID\s+3\s+[▁▂▃▄▅▆▇█]{11}$/m);
    assert.match(table.stdout, /^DISABLED\s+1\s+[▁▂▃▄▅▆▇█]{11}$/m);
    assert.doesNotMatch(table.stdout, /EXPIRED/);
    const lines = csv.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^time,VALID,MALFORMED,NOT_FOUND,/);
    assert.equal(lines.length, 12);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /minute, hour or day/);
  });
});
