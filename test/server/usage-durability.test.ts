import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKey } from '../../src/core/key-format.ts';
import { createTestDatabaseUrl, dropTestDatabase, storeKinds } from '../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../support/server-process.ts';

async function call(server: ServerProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

/** Sends `valid` verifications of a new key and `unknown` of keys that do not exist. */
async function verifyMany(server: ServerProcess, valid: number, unknown: number) {
  const api = await call(server, 'POST', '/v1/apis', { name: 'metered' });
  const key = await call(server, 'POST', `/v1/apis/${api.id}/keys`, {});
  const verify = (body: unknown) => call(server, 'POST', '/v1/keys/verify', body);
  await Promise.all([
    ...Array.from({ length: valid }, () => verify({ key: key.key })),
    ...Array.from({ length: unknown }, () => verify({ key: generateKey('kg') })),
  ]);
  return key.id as string;
}

async function totals(server: ServerProcess, query = '') {
  const usage = await call(server, 'GET', `/v1/usage?granularity=minute&${query}`);
  return usage.totals as Record<string, number>;
}

for (const kind of storeKinds) {
  describe(`usage counts across restarts (${kind})`, () => {
    let dataDir: string;
    let databaseUrl: string | undefined;
    const env = (flushMs: number) => ({
      KEYGATE_DATA_DIR: dataDir,
      KEYGATE_ROOT_KEY: 'usage_durability_root_key_long_enough_000',
      KEYGATE_PEPPER: 'usage-durability-pepper-that-is-long-enough',
      KEYGATE_LOG_LEVEL: 'silent',
      KEYGATE_USAGE_FLUSH_MS: String(flushMs),
      ...(databaseUrl ? { KEYGATE_DATABASE_URL: databaseUrl } : {}),
    });

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'keygate-usage-'));
      if (kind === 'postgres') databaseUrl = await createTestDatabaseUrl();
    });

    after(async () => {
      await rm(dataDir, { recursive: true, force: true });
      if (databaseUrl) await dropTestDatabase(databaseUrl);
    });

    it('writes every count on SIGTERM, so a restart reads exactly what was verified', async () => {
      // An interval no test waits for: whatever is written, the stop wrote.
      const first = await startServerProcess(env(60_000));
      const keyId = await verifyMany(first, 91, 46);
      assert.equal(await first.stop(), 0);

      const second = await startServerProcess(env(60_000));
      const all = await totals(second);
      assert.equal(all.VALID, 91);
      assert.equal(all.NOT_FOUND, 46);
      assert.equal((await totals(second, `keyId=${keyId}`)).VALID, 91);
      const key = await call(second, 'GET', `/v1/keys/${keyId}`);
      assert.equal(typeof key.lastUsedAt, 'string');
      assert.equal(await second.stop(), 0);
    });

    it('loses nothing to kill -9 that was counted one flush interval before', async () => {
      const first = await startServerProcess(env(200));
      const before = await totals(first);
      await verifyMany(first, 40, 0);
      await sleep(600);
      assert.equal(await first.crash(), 137);

      const second = await startServerProcess(env(200));
      assert.equal((await totals(second)).VALID, (before.VALID ?? 0) + 40);
      assert.equal(await second.stop(), 0);
    });
  });
}
