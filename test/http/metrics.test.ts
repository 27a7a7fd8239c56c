import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKey } from '../../src/core/key-format.ts';
import { buildApp } from '../../src/http/app.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/** The value of one sample line of a Prometheus text answer, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let t: TestApp;
  let key: { id: string; key: string };

  before(async () => {
    t = await startTestApp('sqlite');
    const api = await t.request({ method: 'POST', url: '/v1/apis', body: { name: 'm' } });
    const created = await t.request({
      method: 'POST',
      url: `/v1/apis/${api.body.id}/keys`,
      body: { externalId: 'cus_metrics' },
    });
    key = created.body;
  });

  after(() => t.close());

  const scrape = async () => {
    const answer = await t.request({ method: 'GET', url: '/metrics', rootKey: null });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /^text\/plain/);
    return answer.text;
  };
  const verify = (body: unknown) => t.request({ method: 'POST', url: '/v1/keys/verify', body });

  it('counts verifications by code, their latency, and requests by route', async () => {
    const before = await scrape();
    for (let count = 0; count < 3; count += 1) await verify({ key: key.key });
    await verify({ key: generateKey('kg') });

    const text = await scrape();
    const grew = (series: string) => (sample(text, series) ?? 0) - (sample(before, series) ?? 0);
    assert.equal(grew('keygate_verifications_total{code="VALID"}'), 3);
    assert.equal(grew('keygate_verifications_total{code="NOT_FOUND"}'), 1);
    assert.equal(grew('keygate_verify_duration_seconds_count'), 4);
    const route = 'method="POST",route="/v1/keys/verify",status="200"';
    assert.equal(grew(`keygate_http_requests_total{${route}}`), 4);
  });

  it('shows cache hits and misses, the usage queue and the process', async () => {
    await verify({ key: key.key });
    const text = await scrape();

    assert.ok((sample(text, 'keygate_cache_hits_total{cache="keys"}') ?? 0) >= 1);
    assert.ok((sample(text, 'keygate_cache_misses_total{cache="keys"}') ?? 0) >= 1);
    assert.ok((sample(text, 'keygate_usage_pending_events') ?? 0) >= 1);
    assert.ok((sample(text, 'keygate_usage_lag_seconds') ?? -1) >= 0);
    assert.ok(sample(text, 'keygate_process_cpu_seconds_total') !== undefined);
    await t.keygate.usageRecorder.flush();
    assert.equal(sample(await scrape(), 'keygate_usage_pending_events'), 0);
  });

  it('names no key, key id, hash or customer in any label', async () => {
    await verify({ key: key.key, tags: ['campaign-7'] });
    const text = await scrape();

    for (const secret of [key.key, key.id, 'cus_metrics', 'campaign-7', t.rootKey]) {
      assert.ok(!text.includes(secret), `metrics show ${secret}`);
    }
    assert.doesNotMatch(text, /[0-9a-f]{64}/);
    for (const line of text.split('\n').filter((line) => line.startsWith('keygate_'))) {
      assert.match(line, /^keygate_[a-z0-9_]+(\{[^}]*\})? ([-+0-9.e]+|[-+]?Inf|Nan)$/, line);
    }
  });

  it('asks for the metrics token when one is set', async () => {
    const token = 'metrics-token-of-enough-length';
    const guarded = await buildApp({ keygate: t.keygate, metricsToken: token });
    try {
      const refused = await guarded.inject({ method: 'GET', url: '/metrics' });
      const wrong = await guarded.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}x` },
      });
      const allowed = await guarded.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}` },
      });

      assert.equal(refused.statusCode, 401);
      assert.match(String(refused.headers['content-type']), /problem\+json/);
      assert.equal(wrong.statusCode, 401);
      assert.equal(allowed.statusCode, 200);
      assert.match(allowed.body, /keygate_verifications_total/);
    } finally {
      await guarded.close();
    }
  });
});
