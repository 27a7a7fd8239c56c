import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabaseUrl, dropTestDatabase } from '../support/databases.ts';
import { startServerProcess } from '../support/server-process.ts';

async function call(url: string, rootKey: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${rootKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function mode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

describe('first start on an empty data directory', () => {
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keygate-start-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('prints a root key once, keeps it in initial-root-key (0600) and accepts it', async () => {
    const server = await startServerProcess({ KEYGATE_DATA_DIR: dataDir, KEYGATE_ROOT_KEY: '' });
    const file = join(dataDir, 'initial-root-key');
    const rootKey = (await readFile(file, 'utf8')).trim();

    assert.match(rootKey, /^kg_root_[0-9A-Za-z]{39}$/);
    assert.equal(await mode(file), 0o600);
    assert.equal(await mode(join(dataDir, 'pepper')), 0o600);
    assert.equal(server.output().split(rootKey).length - 1, 1, 'printed exactly once');
    assert.equal((await call(server.url, rootKey, '/v1/apis')).status, 200);
    assert.equal(await server.stop(), 0);
  });

  it('on the next start prints nothing secret and still accepts the same root key', async () => {
    const rootKey = (await readFile(join(dataDir, 'initial-root-key'), 'utf8')).trim();
    const server = await startServerProcess({ KEYGATE_DATA_DIR: dataDir, KEYGATE_ROOT_KEY: '' });

    assert.equal(server.output().includes(rootKey), false);
    assert.equal((await call(server.url, rootKey, '/v1/apis')).status, 200);
    assert.equal(await server.stop(), 0);
  });
});

describe('first start with KEYGATE_ROOT_KEY', () => {
  it('uses that root key and neither prints nor writes one', async () => {
    const server = await startServerProcess();

    assert.equal((await call(server.url, server.rootKey, '/v1/apis')).status, 200);
    await assert.rejects(stat(join(server.dataDir, 'initial-root-key')), { code: 'ENOENT' });
    assert.equal(server.output().includes(server.rootKey), false);
    assert.equal((await call(server.url, 'kg_root_wrong', '/v1/apis')).status, 401);
    assert.equal(await server.stop(), 0);
  });
});

describe('start on PostgreSQL', () => {
  let databaseUrl: string;

  before(async () => {
    databaseUrl = await createTestDatabaseUrl();
  });
  after(() => dropTestDatabase(databaseUrl));

  it('keeps keys in the database across restarts', async () => {
    const env = { KEYGATE_DATABASE_URL: databaseUrl, KEYGATE_PEPPER: 'p'.repeat(40) };
    const first = await startServerProcess(env);
    const api = await call(first.url, first.rootKey, '/v1/apis', { name: 'on postgres' });
    const key = await call(first.url, first.rootKey, `/v1/apis/${api.body.id}/keys`, {});
    assert.equal(await first.stop(), 0);

    const second = await startServerProcess({ ...env, KEYGATE_ROOT_KEY: first.rootKey });
    const verified = await call(second.url, second.rootKey, '/v1/keys/verify', {
      key: key.body.key,
    });
    assert.deepEqual([verified.body.valid, verified.body.code], [true, 'VALID']);
    assert.equal((await call(second.url, second.rootKey, '/readyz')).status, 200);
    assert.equal(await second.stop(), 0);
  });
});

describe('graceful shutdown', () => {
  it('answers every request it accepted before SIGTERM, then exits 0', async () => {
    const server = await startServerProcess();
    const api = await call(server.url, server.rootKey, '/v1/apis', { name: 'shutdown' });
    const key = await call(server.url, server.rootKey, `/v1/apis/${api.body.id}/keys`, {});

    const inFlight = Array.from({ length: 50 }, () =>
      call(server.url, server.rootKey, '/v1/keys/verify', { key: key.body.key }).catch(() => null),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    const exitCode = await server.stop();
    const answers = (await Promise.all(inFlight)).filter((answer) => answer !== null);

    assert.equal(exitCode, 0);
    for (const answer of answers) {
      assert.ok([200, 503].includes(answer.status), `status ${answer.status}`);
      if (answer.status === 200) assert.equal(answer.body.code, 'VALID');
    }
  });
});
