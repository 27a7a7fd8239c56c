import { resolve } from 'node:path';
import { DEFAULT_USAGE_RETENTION, type UsageRetention } from '../services/usage.ts';
import { BUCKET_MS, DEFAULT_USAGE_RECORDER_OPTIONS } from '../services/usage-recorder.ts';

/** Everything keygate reads from its environment at start-up. */
export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  pepper: string | undefined;
  rootKey: string | undefined;
  logLevel: string;
  trustProxy: boolean;
  cacheMaxKeys: number;
  cacheTtlMs: number;
  /** Counting verifications for `/v1/usage` and `lastUsedAt`; on unless turned off. */
  usageEnabled: boolean;
  usageFlushIntervalMs: number;
  usageFlushEvents: number;
  /** How long each granularity of usage is kept, in milliseconds. */
  usageRetentionMs: UsageRetention;
  /** When set, `/metrics` asks for `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
}

/** A setting that keygate cannot start with; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and checks the configuration; throws a `ConfigError` naming the first bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const rootKey = nonEmpty(env.KEYGATE_ROOT_KEY);
  if (rootKey !== undefined && (rootKey.length < 32 || rootKey.length > 512)) {
    throw new ConfigError('KEYGATE_ROOT_KEY must be 32 to 512 characters long');
  }
  if (nonEmpty(env.KEYGATE_REDIS_URL)) {
    throw new ConfigError('KEYGATE_REDIS_URL is not supported by this version of keygate yet');
  }
  const pepper = nonEmpty(env.KEYGATE_PEPPER);
  if (pepper !== undefined && pepper.length < 32) {
    throw new ConfigError('KEYGATE_PEPPER must be at least 32 characters long');
  }
  const logLevel = nonEmpty(env.KEYGATE_LOG_LEVEL) ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`KEYGATE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }

  return {
    port: integer(env, 'KEYGATE_PORT', integer(env, 'PORT', 8080, 0, 65535), 0, 65535),
    host: nonEmpty(env.KEYGATE_HOST) ?? '0.0.0.0',
    dataDir: resolve(nonEmpty(env.KEYGATE_DATA_DIR) ?? '.keygate'),
    databaseUrl: databaseUrl(env.KEYGATE_DATABASE_URL),
    pepper,
    rootKey,
    logLevel,
    trustProxy: env.KEYGATE_TRUST_PROXY === 'true',
    cacheMaxKeys: integer(env, 'KEYGATE_CACHE_MAX_KEYS', 100_000, 1, 10_000_000),
    cacheTtlMs: integer(env, 'KEYGATE_CACHE_TTL_MS', 60_000, 0, 3_600_000),
    usageEnabled: usageEnabled(env.KEYGATE_USAGE),
    usageFlushIntervalMs: integer(
      env,
      'KEYGATE_USAGE_FLUSH_MS',
      DEFAULT_USAGE_RECORDER_OPTIONS.flushIntervalMs,
      10,
      60_000,
    ),
    usageFlushEvents: integer(
      env,
      'KEYGATE_USAGE_FLUSH_EVENTS',
      DEFAULT_USAGE_RECORDER_OPTIONS.flushEvents,
      1,
      10_000_000,
    ),
    usageRetentionMs: {
      minute: retentionDays(env, 'minute', 3_650),
      hour: retentionDays(env, 'hour', 3_650),
      day: retentionDays(env, 'day', 36_500),
    },
    metricsToken: metricsToken(env.KEYGATE_METRICS_TOKEN),
  };
}

/** `KEYGATE_USAGE_RETENTION_<GRAIN>_DAYS`, in milliseconds. */
function retentionDays(
  env: NodeJS.ProcessEnv,
  granularity: keyof UsageRetention,
  maxDays: number,
): number {
  const fallback = DEFAULT_USAGE_RETENTION[granularity] / BUCKET_MS.day;
  const name = `KEYGATE_USAGE_RETENTION_${granularity.toUpperCase()}_DAYS`;
  return integer(env, name, fallback, 1, maxDays) * BUCKET_MS.day;
}

function usageEnabled(text: string | undefined): boolean {
  const value = nonEmpty(text) ?? 'on';
  if (value !== 'on' && value !== 'off') throw new ConfigError('KEYGATE_USAGE must be on or off');
  return value === 'on';
}

function metricsToken(text: string | undefined): string | undefined {
  const token = nonEmpty(text);
  if (token !== undefined && token.length < 16) {
    throw new ConfigError('KEYGATE_METRICS_TOKEN must be at least 16 characters long');
  }
  return token;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number) {
  const text = nonEmpty(env[name]);
  if (text === undefined) return fallback;

  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

function databaseUrl(text: string | undefined): string | undefined {
  const url = nonEmpty(text);
  if (url === undefined) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError('KEYGATE_DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  return url;
}
