import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { createPepper } from '../core/hashing.ts';
import { MemoryCounters } from '../counters/memory/memory-counters.ts';
import { buildApp, type KeygateApp } from '../http/app.ts';
import { KeygateMetrics } from '../http/metrics.ts';
import { createKeygate, type Keygate } from '../services/keygate.ts';
import { openPostgresStore } from '../store/postgres/postgres-store.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/types.ts';
import { ConfigError, loadConfig, type ServerConfig } from './config.ts';
import { instrumentStore } from './instrumented-store.ts';
import { LogDestination } from './log-destination.ts';

/** A started server and how to stop it. */
export interface RunningServer {
  app: KeygateApp;
  keygate: Keygate;
  /** The address it listens on, such as `http://127.0.0.1:8080`. */
  url: string;
  /** Stops accepting, finishes requests in flight, then closes the store. */
  stop(): Promise<void>;
}

/** Starts keygate from its configuration and stops it cleanly on SIGTERM or SIGINT. */
export async function runServer(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: ServerConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`keygate: ${error.message}\n`);
    process.exit(2);
  }

  const server = await startServer(config);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/** Opens the store, applies migrations, bootstraps an empty store and listens. */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const logLines = new LogDestination();
  const logger = pino({ level: config.logLevel, base: { service: 'keygate' } }, logLines);
  await mkdir(config.dataDir, { recursive: true });

  const metrics = new KeygateMetrics();
  const store = instrumentStore(await openStore(config), metrics.storeDuration);
  await store.migrate();
  const pepper = createPepper(config.pepper ?? (await dataDirPepper(config.dataDir)));
  // A balance is held longer than a cached record can be stale (see MemoryCountersOptions).
  const counters = new MemoryCounters({
    creditsIdleMs: Math.max(15 * 60_000, 2 * config.cacheTtlMs),
  });
  const keygate = createKeygate({
    store,
    counters,
    pepper,
    cache: { maxEntries: config.cacheMaxKeys, ttlMs: config.cacheTtlMs },
    usage: {
      enabled: config.usageEnabled,
      flushIntervalMs: config.usageFlushIntervalMs,
      flushEvents: config.usageFlushEvents,
      retention: config.usageRetentionMs,
    },
    onUsageWriteError: (error) => logger.error({ err: error }, 'usage counts not written yet'),
  });
  await bootstrap(keygate, config, logger);
  const pruning = startPruning(keygate, logger);

  const app = await buildApp({
    keygate,
    logger,
    trustProxy: config.trustProxy,
    metrics,
    metricsToken: config.metricsToken,
  });
  const url = await app.listen({ port: config.port, host: config.host });
  logger.info({ url, store: store.kind }, 'keygate is listening');

  return {
    app,
    keygate,
    url,
    async stop() {
      clearInterval(pruning);
      await app.close();
      await keygate.close();
      await counters.close();
      await store.close();
      logLines.close();
    },
  };
}

const PRUNE_INTERVAL_MS = 60 * 60_000;

/** Deletes usage buckets past their retention now, then every hour. */
function startPruning(keygate: Keygate, logger: pino.Logger): NodeJS.Timeout {
  const prune = () => {
    keygate.usage.prune().then(
      (pruned) => {
        if (pruned > 0) logger.info({ pruned }, 'pruned usage buckets past their retention');
      },
      (error: unknown) => logger.error({ err: error }, 'usage pruning failed'),
    );
  };
  prune();
  const timer = setInterval(prune, PRUNE_INTERVAL_MS);
  timer.unref();
  return timer;
}

async function openStore(config: ServerConfig): Promise<Store> {
  if (config.databaseUrl) return openPostgresStore(config.databaseUrl);
  return openSqliteStore(join(config.dataDir, 'keygate.db'));
}

/** The pepper kept in the data directory, created (mode 0600) on the first start. */
async function dataDirPepper(dataDir: string): Promise<string> {
  const file = join(dataDir, 'pepper');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }

  const pepper = randomBytes(32).toString('base64url');
  await writeFile(file, `${pepper}\n`, { mode: 0o600, flag: 'wx' });
  return pepper;
}

/** Creates the first workspace on an empty store and shows its root key, this once. */
async function bootstrap(keygate: Keygate, config: ServerConfig, logger: pino.Logger) {
  const result = await keygate.workspaces.bootstrap(config.rootKey);
  if (result.kind === 'existing') {
    if (!result.rootKeyKnown) {
      logger.warn(
        'KEYGATE_ROOT_KEY is not a root key of this store: it is only used on the first start',
      );
    }
    return;
  }
  logger.info('created the workspace "default" and its bootstrap root key');
  if (!result.generated) return;

  const file = join(config.dataDir, 'initial-root-key');
  await writeFile(file, `${result.rootKey}\n`, { mode: 0o600 });
  process.stdout.write(
    `\n  keygate created your root key. It is shown this once, and kept in ${file}:\n\n` +
      `    ${result.rootKey}\n\n` +
      `  Use it as: Authorization: Bearer <root key>\n\n`,
  );
}
