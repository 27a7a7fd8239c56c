import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKey } from '../../src/core/key-format.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { storeKinds } from '../support/databases.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Counts = Record<string, number>;
interface Usage {
  granularity: string;
  from: string;
  to: string;
  series: { time: string; counts: Counts }[];
  totals: Counts;
}

for (const kind of storeKinds) {
  describe(`usage (${kind})`, () => {
    let t: TestApp;

    before(async () => {
      t = await startTestApp(kind);
      // Every test moves the clock on by hand; start on a round hour so buckets are predictable.
      t.clock.set(Date.UTC(2026, 3, 1, 10));
    });

    after(() => t.close());

    async function post(url: string, body: unknown) {
      const answer = await t.request({ method: 'POST', url, body });
      assert.ok(answer.status < 300, `${url}: ${answer.text}`);
      return answer.body;
    }

    async function newApi() {
      return (await post('/v1/apis', { name: 'metered' })).id as string;
    }

    async function newKey(apiId: string, settings: Record<string, unknown> = {}) {
      return (await post(`/v1/apis/${apiId}/keys`, settings)) as { id: string; key: string };
    }

    const verify = (body: Record<string, unknown>) =>
      t.request({ method: 'POST', url: '/v1/keys/verify', body });

    async function usage(query: Record<string, string>, accept?: string) {
      await t.keygate.usageRecorder.flush();
      const answer = await t.request({
        method: 'GET',
        url: `/v1/usage?${new URLSearchParams(query)}`,
        ...(accept ? { headers: { accept } } : {}),
      });
      assert.equal(answer.status, 200, answer.text);
      return answer;
    }

    const totals = async (query: Record<string, string>) =>
      ((await usage(query)).body as Usage).totals;

    const iso = (ms: number) => new Date(ms).toISOString();

    /** Moves the clock to the start of the next hour, so a test's buckets hold only its own. */
    function nextHour(): number {
      t.clock.set(t.clock() - (t.clock() % HOUR) + HOUR);
      return t.clock();
    }

    it('counts every outcome exactly under concurrent verifications', async () => {
      const apiId = await newApi();
      const valid = await newKey(apiId, { permissions: ['read'] });
      const disabled = await newKey(apiId, { enabled: false });
      const limited = await newKey(apiId, {
        ratelimits: [{ name: 'requests', limit: 7, duration: HOUR }],
      });
      const from = iso(nextHour());

      await Promise.all([
        ...Array.from({ length: 40 }, () => verify({ key: valid.key, apiId })),
        ...Array.from({ length: 9 }, () => verify({ key: valid.key, permissions: 'admin' })),
        ...Array.from({ length: 6 }, () => verify({ key: disabled.key })),
        ...Array.from({ length: 20 }, () => verify({ key: limited.key })),
        ...Array.from({ length: 5 }, () => verify({ key: 'kg_short' })),
        ...Array.from({ length: 4 }, () => verify({ key: generateKey('kg'), apiId })),
      ]);
      t.clock.advance(1);

      const apiTotals = await totals({ apiId, from, to: iso(t.clock()) });
      assert.deepEqual(apiTotals, {
        VALID: 47,
        MALFORMED: 0,
        NOT_FOUND: 4,
        REVOKED: 0,
        DISABLED: 6,
        EXPIRED: 0,
        INSUFFICIENT_PERMISSIONS: 9,
        RATE_LIMITED: 13,
        USAGE_EXCEEDED: 0,
      });
      const validKey = await totals({ keyId: valid.id, from, to: iso(t.clock()) });
      assert.equal(validKey.VALID, 40);
      assert.equal(validKey.INSUFFICIENT_PERMISSIONS, 9);
      const everything = await totals({ from, to: iso(t.clock()) });
      assert.equal(everything.MALFORMED, 5);
      assert.equal(everything.VALID, 47);
    });

    it('has a point for every bucket, zeros included, from the one holding from', async () => {
      const apiId = await newApi();
      const key = await newKey(apiId);
      const start = nextHour();
      await verify({ key: key.key });
      t.clock.advance(2 * MINUTE + 5_000);
      await verify({ key: key.key });
      await verify({ key: key.key });

      const answer = await usage({
        keyId: key.id,
        granularity: 'minute',
        from: iso(start + 30_000),
        to: iso(t.clock()),
      });

      const body = answer.body as Usage;
      assert.equal(body.granularity, 'minute');
      assert.equal(body.from, iso(start));
      assert.deepEqual(
        body.series.map((point) => [point.time, point.counts.VALID]),
        [
          [iso(start), 1],
          [iso(start + MINUTE), 0],
          [iso(start + 2 * MINUTE), 2],
        ],
      );
      assert.equal(body.totals.VALID, 3);
    });

    it('rolls minutes up into hours and days that equal their sums', async () => {
      const apiId = await newApi();
      const key = await newKey(apiId, { externalId: 'cus_rollup' });
      const start = nextHour();
      const steps = [7 * MINUTE, 33 * MINUTE, 2 * HOUR, 5 * HOUR + 59 * MINUTE, 11 * HOUR];
      for (const [index, step] of steps.entries()) {
        t.clock.advance(step);
        for (let count = 0; count <= index; count += 1) await verify({ key: key.key });
      }
      const range = { externalId: 'cus_rollup', from: iso(start), to: iso(t.clock() + 1) };

      const minutes = (await usage({ ...range, granularity: 'minute' })).body as Usage;
      const hours = (await usage({ ...range, granularity: 'hour' })).body as Usage;
      const days = (await usage({ ...range, granularity: 'day' })).body as Usage;

      const sumBy = (series: Usage['series'], size: number) => {
        const sums = new Map<number, number>();
        for (const point of series) {
          const bucket = Date.parse(point.time) - (Date.parse(point.time) % size);
          sums.set(bucket, (sums.get(bucket) ?? 0) + (point.counts.VALID ?? 0));
        }
        return sums;
      };
      const minuteHours = sumBy(minutes.series, HOUR);
      for (const point of hours.series) {
        assert.equal(point.counts.VALID, minuteHours.get(Date.parse(point.time)) ?? 0, point.time);
      }
      assert.equal(minutes.totals.VALID, 15);
      assert.equal(hours.totals.VALID, 15);
      assert.equal(days.totals.VALID, 15);
    });

    it('counts tags, each once per verification, beside the untagged series', async () => {
      const apiId = await newApi();
      const key = await newKey(apiId);
      const from = iso(nextHour());
      await verify({ key: key.key, tags: ['beta', 'eu'] });
      await verify({ key: key.key, tags: ['beta', 'beta'] });
      await verify({ key: key.key });
      const to = iso(t.clock() + 1);

      assert.equal((await totals({ keyId: key.id, from, to })).VALID, 3);
      assert.equal((await totals({ keyId: key.id, tag: 'beta', from, to })).VALID, 2);
      assert.equal((await totals({ apiId, tag: 'eu', from, to })).VALID, 1);
      assert.equal((await totals({ tag: 'none-such', from, to })).VALID, 0);
    });

    it('answers CSV with a header of verify codes and a row per bucket', async () => {
      const apiId = await newApi();
      const key = await newKey(apiId);
      const start = nextHour();
      await verify({ key: key.key });
      await verify({ key: generateKey('kg'), apiId });

      const answer = await usage(
        { apiId, granularity: 'minute', from: iso(start), to: iso(start + 3 * MINUTE) },
        'text/csv',
      );

      assert.match(String(answer.headers['content-type']), /^text\/csv/);
      const lines = answer.text.trimEnd().split('\n');
      assert.equal(
        lines[0],
        'time,VALID,MALFORMED,NOT_FOUND,REVOKED,DISABLED,EXPIRED,' +
          'INSUFFICIENT_PERMISSIONS,RATE_LIMITED,USAGE_EXCEEDED',
      );
      assert.equal(lines.length, 4);
      assert.equal(lines[1], `${iso(start)},1,0,1,0,0,0,0,0,0`);
      assert.equal(lines[3], `${iso(start + 2 * MINUTE)},0,0,0,0,0,0,0,0,0`);
    });

    it('shows when each key was last used, in get and in list', async () => {
      const apiId = await newApi();
      const key = await newKey(apiId);
      const unused = await newKey(apiId);
      t.clock.advance(MINUTE);
      const usedAt = t.clock();
      await verify({ key: key.key });

      const before = await t.request({ method: 'GET', url: `/v1/keys/${key.id}` });
      assert.equal(before.body.lastUsedAt, iso(usedAt));
      await t.keygate.usageRecorder.flush();

      const read = await t.request({ method: 'GET', url: `/v1/keys/${key.id}` });
      const list = await t.request({ method: 'GET', url: `/v1/apis/${apiId}/keys` });
      assert.equal(read.body.lastUsedAt, iso(usedAt));
      const byId = new Map(list.body.items.map((item: { id: string }) => [item.id, item]));
      assert.equal((byId.get(key.id) as { lastUsedAt: string }).lastUsedAt, iso(usedAt));
      assert.equal((byId.get(unused.id) as { lastUsedAt: null }).lastUsedAt, null);
    });

    it('ranks the keys and identities with the most verifications or denials', async () => {
      const apiId = await newApi();
      const busy = await newKey(apiId, { externalId: 'cus_busy' });
      const denied = await newKey(apiId, { externalId: 'cus_denied', enabled: false });
      const from = iso(nextHour());
      for (let count = 0; count < 6; count += 1) await verify({ key: busy.key });
      for (let count = 0; count < 3; count += 1) await verify({ key: denied.key });
      await t.keygate.usageRecorder.flush();
      const top = async (query: string) => {
        const answer = await t.request({
          method: 'GET',
          url: `/v1/usage/top?from=${from}&to=${iso(t.clock() + 1)}&${query}`,
        });
        assert.equal(answer.status, 200, answer.text);
        return answer.body.items;
      };

      assert.deepEqual(await top('limit=2'), [
        { id: busy.id, count: 6 },
        { id: denied.id, count: 3 },
      ]);
      assert.deepEqual(await top('metric=denials'), [{ id: denied.id, count: 3 }]);
      assert.deepEqual(await top('by=identity&metric=DISABLED'), [{ id: 'cus_denied', count: 3 }]);
    });

    it('prunes each granularity once it is older than its retention', async () => {
      const apiId = await newApi();
      const key = await newKey(apiId);
      const usedAt = t.clock();
      await verify({ key: key.key });
      const range = { keyId: key.id, from: iso(usedAt), to: iso(usedAt + 1) };
      const kept = async () => ({
        minute: (await totals({ ...range, granularity: 'minute' })).VALID,
        hour: (await totals({ ...range, granularity: 'hour' })).VALID,
        day: (await totals({ ...range, granularity: 'day' })).VALID,
      });
      const pruneAt = async (ms: number) => {
        t.clock.set(ms);
        await t.keygate.usage.prune();
      };

      await pruneAt(usedAt + 6 * DAY);
      assert.deepEqual(await kept(), { minute: 1, hour: 1, day: 1 });
      await pruneAt(usedAt + 8 * DAY);
      assert.deepEqual(await kept(), { minute: 0, hour: 1, day: 1 });
      await pruneAt(usedAt + 91 * DAY);
      assert.deepEqual(await kept(), { minute: 0, hour: 0, day: 1 });
      await pruneAt(usedAt + 731 * DAY);
      assert.deepEqual(await kept(), { minute: 0, hour: 0, day: 0 });
    });

    it('refuses a range of more than 1,500 buckets, and keyId with apiId', async () => {
      const tooLong = await t.request({
        method: 'GET',
        url: `/v1/usage?granularity=minute&from=${iso(t.clock() - 2 * DAY)}`,
      });
      assert.equal(tooLong.status, 400, tooLong.text);
      assert.match(tooLong.body.detail, /1,?500|1500/);

      const both = await t.request({ method: 'GET', url: '/v1/usage?keyId=key_1&apiId=api_1' });
      assert.equal(both.status, 400);
      assert.equal(both.body.errors[0].path, 'query.keyId');
    });

    it('asks for usage.read', async () => {
      const rootKey = (await post('/v1/root-keys', { name: 'verifier', permissions: ['api.*.*'] }))
        .key as string;

      for (const url of ['/v1/usage', '/v1/usage/top']) {
        const answer = await t.request({ method: 'GET', url, rootKey });
        assert.equal(answer.status, 403, answer.text);
        assert.match(answer.body.detail, /usage\.read/);
      }
    });
  });
}
