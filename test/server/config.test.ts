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
