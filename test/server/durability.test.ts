import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabaseUrl, dropTestDatabase, storeKinds } from '../support/databases.ts';
import { type ServerProcess, startServerProcess } from '../support/server-process.ts';

/** The fields these tests read, from whichever answer has them. */
interface Answer {
  id: string;
  key: string;
  code: string;
  credits: { remaining: number };
}

async function call(server: ServerProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

for (const kind of storeKinds) {
  describe(`credit charges survive kill -9 (${kind})`, () => {
    let dataDir: string;
    let databaseUrl: string | undefined;
    const env = () => ({
      KEYGATE_DATA_DIR: dataDir,
      KEYGATE_ROOT_KEY: 'durability_root_key_that_is_long_enough_000',
      KEYGATE_PEPPER: 'durability-pepper-that-is-long-enough-for-keygate',
      KEYGATE_LOG_LEVEL: 'silent',
      ...(databaseUrl ? { KEYGATE_DATABASE_URL: databaseUrl } : {}),
    });

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'keygate-durability-'));
      if (kind === 'postgres') databaseUrl = await createTestDatabaseUrl();
    });

    after(async () => {
      await rm(dataDir, { recursive: true, force: true });
      if (databaseUrl) await dropTestDatabase(databaseUrl);
    });

    it('keeps every charge a VALID answer reported, and no more', async () => {
      const first = await startServerProcess(env());
      const api = await call(first, 'POST', '/v1/apis', { name: 'durable' });
      const created = await call(first, 'POST', `/v1/apis/${api.body.id}/keys`, {
        credits: { remaining: 1000 },
      });
      const verify = () =>
        call(first, 'POST', '/v1/keys/verify', { key: created.body.key, cost: 3 });

      const answers = await Promise.all(Array.from({ length: 60 }, verify));
      const lowest = Math.min(...answers.map((answer) => answer.body.credits.remaining));
      assert.equal(answers.filter((answer) => answer.body.code === 'VALID').length, 60);
      assert.equal(lowest, 1000 - 180);
      assert.equal(await first.crash(), 137);

      const second = await startServerProcess(env());
      const read = await call(second, 'GET', `/v1/keys/${created.body.id}`);
      const next = await call(second, 'POST', '/v1/keys/verify', { key: created.body.key });
      assert.deepEqual(read.body.credits, { remaining: 820 });
      assert.deepEqual(next.body.credits, { remaining: 819 });
      assert.equal(await second.stop(), 0);
    });
  });
}
