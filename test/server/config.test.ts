import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/server/config.ts';

describe('configuration', () => {
  it('serves on 8080 with the embedded store in ./.keygate by default', () => {
    const config = loadConfig({});

    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, resolve('.keygate'));
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.rootKey, undefined);
    assert.equal(config.logLevel, 'info');
  });

  it('takes PORT when KEYGATE_PORT is not set, and KEYGATE_PORT over PORT', () => {
    assert.equal(loadConfig({ PORT: '3000' }).port, 3000);
    assert.equal(loadConfig({ PORT: '3000', KEYGATE_PORT: '4000' }).port, 4000);
  });

  it('names the variable of every bad setting', () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ KEYGATE_PORT: 'eighty' }, /KEYGATE_PORT must be a whole number/],
      [{ KEYGATE_PORT: '70000' }, /KEYGATE_PORT/],
      [{ KEYGATE_ROOT_KEY: 'too-short' }, /KEYGATE_ROOT_KEY must be 32 to 512 characters/],
      [{ KEYGATE_PEPPER: 'short' }, /KEYGATE_PEPPER must be at least 32/],
      [{ KEYGATE_DATABASE_URL: 'mysql://x' }, /KEYGATE_DATABASE_URL must be a postgres/],
      [{ KEYGATE_LOG_LEVEL: 'loud' }, /KEYGATE_LOG_LEVEL must be one of/],
      [{ KEYGATE_REDIS_URL: 'redis://127.0.0.1' }, /KEYGATE_REDIS_URL is not supported/],
      [{ KEYGATE_CACHE_MAX_KEYS: '0' }, /KEYGATE_CACHE_MAX_KEYS/],
      [{ KEYGATE_USAGE: 'maybe' }, /KEYGATE_USAGE must be on or off/],
      [{ KEYGATE_USAGE_FLUSH_MS: '5' }, /KEYGATE_USAGE_FLUSH_MS must be a whole number/],
      [{ KEYGATE_USAGE_FLUSH_EVENTS: '1.5' }, /KEYGATE_USAGE_FLUSH_EVENTS/],
      [{ KEYGATE_USAGE_RETENTION_MINUTE_DAYS: '0' }, /KEYGATE_USAGE_RETENTION_MINUTE_DAYS/],
      [{ KEYGATE_USAGE_RETENTION_DAY_DAYS: 'forever' }, /KEYGATE_USAGE_RETENTION_DAY_DAYS/],
      [{ KEYGATE_METRICS_TOKEN: 'short' }, /KEYGATE_METRICS_TOKEN must be at least 16/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });

  it('counts usage by default, written every second, kept 7, 90 and 730 days by grain', () => {
    const day = 86_400_000;
    const config = loadConfig({});
    const off = loadConfig({ KEYGATE_USAGE: 'off', KEYGATE_USAGE_RETENTION_HOUR_DAYS: '30' });

    assert.equal(config.usageEnabled, true);
    assert.equal(config.usageFlushIntervalMs, 1_000);
    assert.equal(config.usageFlushEvents, 2_000);
    assert.deepEqual(config.usageRetentionMs, { minute: 7 * day, hour: 90 * day, day: 730 * day });
    assert.equal(config.metricsToken, undefined);
    assert.equal(off.usageEnabled, false);
    assert.equal(off.usageRetentionMs.hour, 30 * day);
  });

  it('accepts a PostgreSQL URL and a long enough root key', () => {
    const rootKey = 'r'.repeat(40);
    const config = loadConfig({
      KEYGATE_DATABASE_URL: 'postgres://u@h/db',
      KEYGATE_ROOT_KEY: rootKey,
    });

    assert.equal(config.databaseUrl, 'postgres://u@h/db');
    assert.equal(config.rootKey, rootKey);
  });
});
