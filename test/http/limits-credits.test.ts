import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.ts';
import { storeKinds } from '../support/databases.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

interface Standing {
  name: string;
  limit: number;
  duration: number;
  remaining: number;
  resetAt: string;
  exceeded: boolean;
}

interface Verified {
  valid: boolean;
  code: string;
  keyId?: string;
  credits?: { remaining: number | null };
  ratelimits?: Standing[];
}

for (const kind of storeKinds) {
  describe(`rate limits and credits on verify (${kind})`, () => {
    let app: TestApp;
    let apiId: string;

    before(async () => {
      app = await startTestApp(kind);
      const api = await app.request({ method: 'POST', url: '/v1/apis', body: { name: 'search' } });
      apiId = api.body.id;
    });

    after(() => app.close());

    async function createKey(body: Record<string, unknown> = {}) {
      const response = await app.request({ method: 'POST', url: `/v1/apis/${apiId}/keys`, body });
      assert.equal(response.status, 201, response.text);
      return response.body as { id: string; key: string };
    }

    async function verify(key: string, extra: Record<string, unknown> = {}): Promise<Verified> {
      const body = { key, ...extra };
      const response = await app.request({ method: 'POST', url: '/v1/keys/verify', body });
      assert.equal(response.status, 200, response.text);
      return response.body;
    }

    async function codes(key: string, times: number, extra: Record<string, unknown> = {}) {
      const answers: string[] = [];
      for (let i = 0; i < times; i += 1) answers.push((await verify(key, extra)).code);
      return answers;
    }

    async function creditsOf(keyId: string) {
      const response = await app.request({ method: 'GET', url: `/v1/keys/${keyId}` });
      assert.equal(response.status, 200, response.text);
      return response.body.credits as { remaining: number } | null;
    }

    async function changeCredits(url: string, op: string, value: number) {
      return app.request({ method: 'POST', url, body: { op, value } });
    }

    it('admits a sliding window limit exactly, then again once the window has passed', async () => {
      const { key } = await createKey({
        ratelimits: [{ name: 'requests', limit: 3, duration: SECOND }],
      });

      assert.deepEqual(await codes(key, 4), ['VALID', 'VALID', 'VALID', 'RATE_LIMITED']);
      const denied = await verify(key);
      assert.deepEqual(
        denied.ratelimits?.map(({ name, limit, duration, remaining, exceeded }) => ({
          name,
          limit,
          duration,
          remaining,
          exceeded,
        })),
        [{ name: 'requests', limit: 3, duration: SECOND, remaining: 0, exceeded: true }],
      );
      assert.ok(Date.parse(denied.ratelimits?.[0]?.resetAt ?? '') > app.clock());

      app.clock.advance(2 * SECOND);
      assert.equal((await verify(key)).code, 'VALID');
    });

    it('admits exactly the limit among concurrent verifications', async () => {
      const { key } = await createKey({
        ratelimits: [{ name: 'requests', limit: 10, duration: MINUTE }],
      });

      const answers = await Promise.all(Array.from({ length: 40 }, () => verify(key)));

      assert.equal(answers.filter((answer) => answer.code === 'VALID').length, 10);
      assert.equal(answers.filter((answer) => answer.code === 'RATE_LIMITED').length, 30);
    });

    it('lets a token bucket spend its burst at once, then refill at its rate', async () => {
      const { key } = await createKey({
        ratelimits: [
          { name: 'rate', limit: 1, duration: SECOND, algorithm: 'token-bucket', burst: 5 },
        ],
      });

      assert.deepEqual(await codes(key, 6), [...Array(5).fill('VALID'), 'RATE_LIMITED']);
      app.clock.advance(SECOND);
      assert.deepEqual(await codes(key, 2), ['VALID', 'RATE_LIMITED']);
    });

    it('refuses a token bucket too large to count exactly, naming the field', async () => {
      const month = 31 * 24 * 3600 * SECOND;
      const refused = async (limit: Record<string, unknown>) => {
        const body = { ratelimits: [{ name: 'huge', duration: month, ...limit }] };
        const response = await app.request({ method: 'POST', url: `/v1/apis/${apiId}/keys`, body });
        assert.equal(response.status, 400, response.text);
        return response.body.errors[0].path;
      };

      assert.equal(
        await refused({ limit: 10_000_000, algorithm: 'token-bucket' }),
        'ratelimits[0].limit',
      );
      assert.equal(
        await refused({ limit: 1, burst: 10_000_000, algorithm: 'token-bucket' }),
        'ratelimits[0].burst',
      );
      await createKey({ ratelimits: [{ name: 'huge', limit: 10_000_000, duration: month }] });
    });

    it('applies a limit that is not auto-applied only when the request names it', async () => {
      const { key } = await createKey({
        ratelimits: [{ name: 'tokens', limit: 10, duration: MINUTE, autoApply: false }],
      });

      const unnamed = await verify(key);
      const named = await verify(key, { ratelimits: [{ name: 'tokens', cost: 7 }] });
      const again = await verify(key, { ratelimits: [{ name: 'tokens', cost: 4 }] });

      assert.deepEqual(unnamed.ratelimits, []);
      assert.equal(named.ratelimits?.[0]?.remaining, 3);
      assert.equal(again.code, 'RATE_LIMITED');
      assert.equal(again.ratelimits?.[0]?.remaining, 3);
    });

    it('reports a shadow limit as exceeded without denying', async () => {
      const { key } = await createKey({
        ratelimits: [{ name: 'trial', limit: 1, duration: MINUTE, shadow: true }],
      });

      await verify(key);
      const second = await verify(key);

      assert.equal(second.code, 'VALID');
      assert.equal(second.ratelimits?.[0]?.exceeded, true);
    });

    it('refuses to apply a limit the key does not have, naming it', async () => {
      const { key } = await createKey({ ratelimits: [] });

      const response = await app.request({
        method: 'POST',
        url: '/v1/keys/verify',
        body: { key, ratelimits: [{ name: 'missing' }] },
      });

      assert.equal(response.status, 400);
      assert.match(response.body.detail, /"missing"/);
      assert.equal(response.body.errors[0].path, 'ratelimits');
    });

    it('charges credits per verification and denies once they run out', async () => {
      const { id, key } = await createKey({ credits: { remaining: 5 } });

      const first = await verify(key, { cost: 2 });
      const free = await verify(key, { cost: 0 });
      const tooDear = await verify(key, { cost: 4 });

      assert.deepEqual([first.code, first.credits], ['VALID', { remaining: 3 }]);
      assert.deepEqual([free.code, free.credits], ['VALID', { remaining: 3 }]);
      assert.deepEqual([tooDear.code, tooDear.credits], ['USAGE_EXCEEDED', { remaining: 3 }]);
      assert.deepEqual(await codes(key, 4), ['VALID', 'VALID', 'VALID', 'USAGE_EXCEEDED']);
      assert.deepEqual(await creditsOf(id), { remaining: 0 });
    });

    it('never spends more credits than there are, under concurrency', async () => {
      const { id, key } = await createKey({ credits: { remaining: 10 } });

      const answers = await Promise.all(Array.from({ length: 40 }, () => verify(key)));

      assert.equal(answers.filter((answer) => answer.code === 'VALID').length, 10);
      assert.equal(answers.filter((answer) => answer.code === 'USAGE_EXCEEDED').length, 30);
      assert.deepEqual(await creditsOf(id), { remaining: 0 });
    });

    it('takes no credits from a request a limit denies', async () => {
      const { id, key } = await createKey({
        credits: { remaining: 10 },
        ratelimits: [{ name: 'requests', limit: 1, duration: MINUTE }],
      });

      assert.deepEqual(await codes(key, 3), ['VALID', 'RATE_LIMITED', 'RATE_LIMITED']);
      assert.deepEqual(await creditsOf(id), { remaining: 9 });
    });

    it('takes nothing from any limit when the credits deny', async () => {
      const { key } = await createKey({
        credits: { remaining: 1 },
        ratelimits: [
          { name: 'minute', limit: 5, duration: MINUTE },
          { name: 'day', limit: 50, duration: DAY, algorithm: 'token-bucket' },
        ],
      });

      await verify(key);
      const denied = await verify(key);
      const next = await verify(key, { cost: 0 });

      assert.equal(denied.code, 'USAGE_EXCEEDED');
      const remaining = (answer: Verified) =>
        answer.ratelimits?.map((limit) => [limit.name, limit.remaining]);
      assert.deepEqual(remaining(denied), [
        ['minute', 4],
        ['day', 49],
      ]);
      assert.deepEqual(remaining(next), [
        ['minute', 3],
        ['day', 48],
      ]);
    });

    it('refills credits at 00:00 UTC, monthly on the last day of a shorter month', async () => {
      app.clock.set(Date.UTC(2031, 3, 29, 12));
      const { id, key } = await createKey({
        credits: { remaining: 1, refill: { interval: 'monthly', amount: 3, day: 31 } },
      });
      await verify(key);
      assert.equal((await verify(key)).code, 'USAGE_EXCEEDED');

      app.clock.set(Date.UTC(2031, 3, 29, 23, 59, 59));
      assert.equal((await verify(key)).code, 'USAGE_EXCEEDED');
      app.clock.set(Date.UTC(2031, 3, 30));
      assert.deepEqual(await creditsOf(id), {
        remaining: 3,
        refill: { interval: 'monthly', amount: 3, day: 31 },
      });
      assert.deepEqual((await verify(key)).credits, { remaining: 2 });
      assert.deepEqual((await creditsOf(id))?.remaining, 2);
    });

    it('refills daily credits once a day, whatever was left', async () => {
      app.clock.set(Date.UTC(2032, 1, 28, 20));
      const { key } = await createKey({
        credits: { remaining: 2, refill: { interval: 'daily', amount: 2 } },
      });
      assert.deepEqual(await codes(key, 3), ['VALID', 'VALID', 'USAGE_EXCEEDED']);

      app.clock.set(Date.UTC(2032, 1, 29, 0, 0, 1));
      assert.deepEqual(await codes(key, 3), ['VALID', 'VALID', 'USAGE_EXCEEDED']);
    });

    it('sets, increments and decrements a key’s credits, stopping at 0', async () => {
      const { id, key } = await createKey();
      const url = `/v1/keys/${id}/credits`;

      const increment = await changeCredits(url, 'increment', 5);
      const set = await changeCredits(url, 'set', 2);
      await verify(key);
      const more = await changeCredits(url, 'increment', 4);
      const less = await changeCredits(url, 'decrement', 100);

      assert.equal(increment.status, 409);
      assert.match(increment.body.detail, /unlimited/);
      assert.deepEqual([set.status, set.body.credits], [200, { remaining: 2 }]);
      assert.deepEqual(more.body.credits, { remaining: 5 });
      assert.deepEqual(less.body.credits, { remaining: 0 });
      assert.equal((await verify(key)).code, 'USAGE_EXCEEDED');

      await changeCredits(url, 'set', 1);
      assert.deepEqual(await codes(key, 2), ['VALID', 'USAGE_EXCEEDED']);

      const audit = await app.request({ method: 'GET', url: `/v1/audit?targetId=${id}` });
      const actions = audit.body.items.map((event: { action: string }) => event.action);
      assert.equal(actions.filter((action: string) => action === 'key.credits').length, 4);
    });

    it('makes a key unlimited when its credits are cleared', async () => {
      const { id, key } = await createKey({ credits: { remaining: 0 } });
      assert.equal((await verify(key)).code, 'USAGE_EXCEEDED');

      const cleared = await app.request({
        method: 'PATCH',
        url: `/v1/keys/${id}`,
        body: { credits: null },
      });

      assert.equal(cleared.body.credits, null);
      assert.deepEqual((await verify(key)).credits, { remaining: null });
    });

    it('shares credits and rate-limit windows between a rolled key and its successor', async () => {
      const { id, key: old } = await createKey({
        credits: { remaining: 4 },
        ratelimits: [{ name: 'requests', limit: 3, duration: MINUTE }],
      });
      await verify(old);

      const rolled = await app.request({
        method: 'POST',
        url: `/v1/keys/${id}/roll`,
        body: { gracePeriodMs: MINUTE },
      });
      const fresh = rolled.body.key as string;

      assert.deepEqual(rolled.body.credits, { remaining: 3 });
      assert.deepEqual((await verify(fresh)).credits, { remaining: 2 });
      assert.deepEqual((await verify(old)).ratelimits?.[0]?.remaining, 0);
      assert.equal((await verify(fresh)).code, 'RATE_LIMITED');
      assert.deepEqual(await creditsOf(id), { remaining: 1 });
      assert.deepEqual(await creditsOf(rolled.body.id), { remaining: 1 });
    });
  });

  describe(`identities (${kind})`, () => {
    let app: TestApp;
    let apiId: string;

    before(async () => {
      app = await startTestApp(kind);
      const api = await app.request({ method: 'POST', url: '/v1/apis', body: { name: 'search' } });
      apiId = api.body.id;
    });

    after(() => app.close());

    async function createIdentity(body: Record<string, unknown>) {
      const response = await app.request({ method: 'POST', url: '/v1/identities', body });
      assert.equal(response.status, 201, response.text);
      return response.body;
    }

    async function createKey(body: Record<string, unknown>) {
      const response = await app.request({ method: 'POST', url: `/v1/apis/${apiId}/keys`, body });
      assert.equal(response.status, 201, response.text);
      return response.body as { id: string; key: string };
    }

    async function verify(key: string, extra: Record<string, unknown> = {}): Promise<Verified> {
      const response = await app.request({
        method: 'POST',
        url: '/v1/keys/verify',
        body: { key, ...extra },
      });
      assert.equal(response.status, 200, response.text);
      return response.body;
    }

    it('creates, reads, lists, updates and deletes an identity, auditing each change', async () => {
      const created = await createIdentity({
        externalId: 'cus_crud',
        meta: { plan: 'pro' },
        ratelimits: [{ name: 'requests', limit: 10, duration: MINUTE }],
        credits: { remaining: 100, refill: { interval: 'monthly', amount: 100 } },
      });
      const duplicate = await app.request({
        method: 'POST',
        url: '/v1/identities',
        body: { externalId: 'cus_crud' },
      });
      const read = await app.request({ method: 'GET', url: '/v1/identities/cus_crud' });
      const updated = await app.request({
        method: 'PATCH',
        url: '/v1/identities/cus_crud',
        body: { meta: null, credits: { remaining: 7 } },
      });
      const listed = await app.request({ method: 'GET', url: '/v1/identities?limit=100' });
      const deleted = await app.request({ method: 'DELETE', url: '/v1/identities/cus_crud' });
      const gone = await app.request({ method: 'GET', url: '/v1/identities/cus_crud' });
      const audit = await app.request({ method: 'GET', url: `/v1/audit?targetId=${created.id}` });

      assert.deepEqual(created.credits, {
        remaining: 100,
        refill: { interval: 'monthly', amount: 100 },
      });
      assert.equal(duplicate.status, 409);
      assert.deepEqual(read.body, created);
      assert.deepEqual([updated.body.meta, updated.body.credits], [null, { remaining: 7 }]);
      assert.deepEqual(updated.body.ratelimits, created.ratelimits);
      assert.ok(listed.body.items.some((item: { id: string }) => item.id === created.id));
      assert.equal(deleted.status, 204);
      assert.equal(gone.status, 404);
      assert.deepEqual(
        audit.body.items.map((event: { action: string }) => event.action),
        ['identity.delete', 'identity.update', 'identity.create'],
      );
    });

    it("counts an identity's limits and credits across all of its keys", async () => {
      await createIdentity({
        externalId: 'cus_shared',
        ratelimits: [{ name: 'requests', limit: 4, duration: MINUTE }],
        credits: { remaining: 3 },
      });
      const first = await createKey({ externalId: 'cus_shared' });
      const second = await createKey({ externalId: 'cus_shared' });

      const answers = [
        await verify(first.key),
        await verify(second.key),
        await verify(first.key),
        await verify(second.key),
      ];

      assert.deepEqual(
        answers.map((answer) => [answer.code, answer.credits?.remaining]),
        [
          ['VALID', 2],
          ['VALID', 1],
          ['VALID', 0],
          ['USAGE_EXCEEDED', 0],
        ],
      );
      const identity = await app.request({ method: 'GET', url: '/v1/identities/cus_shared' });
      assert.deepEqual(identity.body.credits, { remaining: 0 });
    });

    it("charges a key with credits of its own there only, and a key's limit overrides its identity's", async () => {
      await createIdentity({
        externalId: 'cus_own',
        ratelimits: [{ name: 'requests', limit: 1, duration: MINUTE }],
        credits: { remaining: 50 },
      });
      const own = await createKey({
        externalId: 'cus_own',
        credits: { remaining: 2 },
        ratelimits: [{ name: 'requests', limit: 3, duration: MINUTE }],
      });

      const answers = [await verify(own.key), await verify(own.key), await verify(own.key)];

      assert.deepEqual(
        answers.map((answer) => answer.code),
        ['VALID', 'VALID', 'USAGE_EXCEEDED'],
      );
      assert.equal(answers[1]?.ratelimits?.[0]?.limit, 3);
      const identity = await app.request({ method: 'GET', url: '/v1/identities/cus_own' });
      assert.deepEqual(identity.body.credits, { remaining: 50 });
    });

    it("changes an identity's shared credits for every key at once", async () => {
      await createIdentity({ externalId: 'cus_topup', credits: { remaining: 0 } });
      const { key } = await createKey({ externalId: 'cus_topup' });
      assert.equal((await verify(key)).code, 'USAGE_EXCEEDED');

      const topped = await app.request({
        method: 'POST',
        url: '/v1/identities/cus_topup/credits',
        body: { op: 'increment', value: 2 },
      });

      assert.deepEqual(topped.body.credits, { remaining: 2 });
      assert.deepEqual((await verify(key)).credits, { remaining: 1 });
    });

    it('lets keys go on alone once their identity is deleted', async () => {
      await createIdentity({ externalId: 'cus_gone', credits: { remaining: 0 } });
      const { key } = await createKey({ externalId: 'cus_gone' });
      assert.equal((await verify(key)).code, 'USAGE_EXCEEDED');

      await app.request({ method: 'DELETE', url: '/v1/identities/cus_gone' });

      assert.equal((await verify(key)).code, 'VALID');
    });

    it('names the limit a request asks for that neither the key nor its identity has', async () => {
      await createIdentity({
        externalId: 'cus_named',
        ratelimits: [{ name: 'tokens', limit: 100, duration: MINUTE, autoApply: false }],
      });
      const { key } = await createKey({ externalId: 'cus_named' });

      const named = await verify(key, { ratelimits: [{ name: 'tokens', cost: 30 }] });
      const unknown = await app.request({
        method: 'POST',
        url: '/v1/keys/verify',
        body: { key, ratelimits: [{ name: 'nope' }] },
      });

      assert.equal(named.ratelimits?.[0]?.remaining, 70);
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.detail, /"nope"/);
    });
  });

  describe(`standalone rate limits (${kind})`, () => {
    let app: TestApp;

    before(async () => {
      app = await startTestApp(kind);
    });

    after(() => app.close());

    const limit = (namespace: string, body: Record<string, unknown>, rootKey?: string) =>
      app.request({ method: 'POST', url: `/v1/ratelimits/${namespace}/limit`, body, rootKey });

    const putOverride = (namespace: string, identifier: string, body: Record<string, unknown>) =>
      app.request({
        method: 'PUT',
        url: `/v1/ratelimits/${namespace}/overrides/${encodeURIComponent(identifier)}`,
        body,
      });

    it('limits any identifier, with the draft RateLimit headers and Retry-After on denial', async () => {
      const call = { identifier: 'alice@example.com', limit: 2, duration: 10 * SECOND };

      const first = await limit('logins', call);
      const second = await limit('logins', call);
      const third = await limit('logins', { ...call, legacyHeaders: true });

      assert.deepEqual(
        [first.body.success, first.body.remaining, second.body.remaining],
        [true, 1, 0],
      );
      assert.equal(first.headers['ratelimit-policy'], '"logins";q=2;w=10');
      assert.match(String(first.headers.ratelimit), /^"logins";r=1;t=\d+$/);
      assert.equal(first.headers['retry-after'], undefined);
      assert.equal(third.status, 200);
      assert.equal(third.body.success, false);
      assert.ok(Number(third.headers['retry-after']) >= 1);
      assert.equal(third.headers['x-ratelimit-limit'], '2');
      assert.equal(third.headers['x-ratelimit-remaining'], '0');
    });

    it('takes an exact override over a pattern, and a longer pattern over a shorter', async () => {
      await putOverride('api', 'user_*', { limit: 1, duration: MINUTE });
      await putOverride('api', 'user_vip_*', { limit: 3, duration: MINUTE });
      await putOverride('api', 'user_vip_7', { limit: 5, duration: MINUTE });
      const call = (identifier: string) =>
        limit('api', { identifier, limit: 100, duration: SECOND });

      const plain = await call('user_1');
      const vip = await call('user_vip_2');
      const exact = await call('user_vip_7');
      const other = await call('robot_1');

      assert.deepEqual(
        [plain, vip, exact, other].map((answer) => answer.body.limit),
        [1, 3, 5, 100],
      );
      assert.equal((await call('user_1')).body.success, false);
    });

    it('blocks an identifier whose override is 0, and lets it go once deleted', async () => {
      const put = await putOverride('signups', 'spammer', { limit: 0, duration: MINUTE });
      const blocked = await limit('signups', {
        identifier: 'spammer',
        limit: 10,
        duration: MINUTE,
      });
      const read = await app.request({
        method: 'GET',
        url: '/v1/ratelimits/signups/overrides/spammer',
      });
      const deleted = await app.request({
        method: 'DELETE',
        url: '/v1/ratelimits/signups/overrides/spammer',
      });
      const freed = await limit('signups', { identifier: 'spammer', limit: 10, duration: MINUTE });
      const gone = await app.request({
        method: 'GET',
        url: '/v1/ratelimits/signups/overrides/spammer',
      });

      assert.equal(put.status, 200, put.text);
      assert.deepEqual([blocked.body.success, blocked.body.limit], [false, 0]);
      assert.deepEqual(read.body, put.body);
      assert.equal(deleted.status, 204);
      assert.equal(freed.body.success, true);
      assert.equal(gone.status, 404);
      const audit = await app.request({ method: 'GET', url: `/v1/audit?targetId=${put.body.id}` });
      assert.deepEqual(
        audit.body.items.map((event: { action: string }) => event.action),
        ['ratelimit.delete_override', 'ratelimit.set_override'],
      );
    });

    it('admits exactly the limit among concurrent calls', async () => {
      const call = { identifier: 'webhook_1', limit: 7, duration: MINUTE };

      const answers = await Promise.all(Array.from({ length: 30 }, () => limit('hooks', call)));

      assert.equal(answers.filter((answer) => answer.body.success).length, 7);
    });

    it('needs ratelimit.<namespace>.limit', async () => {
      const created = await app.request({
        method: 'POST',
        url: '/v1/root-keys',
        body: { name: 'logins only', permissions: ['ratelimit.logins.limit'] },
      });
      const rootKey = created.body.key as string;
      const call = { identifier: 'x', limit: 1, duration: SECOND };

      assert.equal((await limit('logins', call, rootKey)).status, 200);
      assert.equal((await limit('signups', call, rootKey)).status, 403);
    });
  });
}
