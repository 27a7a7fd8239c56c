/**
 * Runs the real `keygate serve` as a child process for end-to-end tests, on a free port with a
 * fresh data directory and a known root key.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The `keygate` executable. */
export const KEYGATE_BIN = fileURLToPath(new URL('../../bin/keygate.js', import.meta.url));

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** A running `keygate serve`. */
export interface ServerProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** The bootstrap root key: `KEYGATE_ROOT_KEY`, or the generated one when that was `''`. */
  rootKey: string;
  /** The embedded store's directory (`KEYGATE_DATA_DIR`). */
  dataDir: string;
  /** Sends SIGTERM, waits for the exit and answers the exit status (128 + signal if killed). */
  stop(): Promise<number>;
  /** Kills the process at once with SIGKILL, as a crash would, and waits for it to be gone. */
  crash(): Promise<number>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
}

/** A TCP port nothing listens on at the moment of asking. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));

  if (typeof address !== 'object' || address === null) throw new Error('no port was assigned');
  return address.port;
}

/**
 * Starts `keygate serve` and resolves once `GET /healthz` answers 200.
 *
 * Inherited `KEYGATE_*` variables are dropped so a test sees only what it asks for; `env`
 * adds to or overrides the defaults (`KEYGATE_DATABASE_URL`, `KEYGATE_REDIS_URL`, …). A data
 * directory the helper made is removed on `stop()`; one passed in `KEYGATE_DATA_DIR` is kept.
 *
 * @example
 * const server = await startServerProcess({ KEYGATE_DATABASE_URL: process.env.PG_URL });
 * // … talk to server.url with server.rootKey …
 * assert.equal(await server.stop(), 0);
 */
export async function startServerProcess(
  env: Record<string, string | undefined> = {},
): Promise<ServerProcess> {
  const ownsDataDir = env.KEYGATE_DATA_DIR === undefined;
  const dataDir = env.KEYGATE_DATA_DIR ?? (await mkdtemp(join(tmpdir(), 'keygate-test-')));
  const port = env.KEYGATE_PORT ?? String(await freePort());
  const rootKey = env.KEYGATE_ROOT_KEY ?? `test_root_${randomBytes(24).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;

  const child = spawn(process.execPath, [KEYGATE_BIN, 'serve'], {
    env: {
      ...withoutKeygateVariables(process.env),
      KEYGATE_DATA_DIR: dataDir,
      KEYGATE_PORT: port,
      KEYGATE_ROOT_KEY: rootKey,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watched = watch(child);

  const stop = async () => {
    const code = await watched.stop();
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    return code;
  };

  try {
    await waitUntilHealthy(url, watched);
  } catch (error) {
    await stop();
    throw error;
  }
  const key = rootKey || (await generatedRootKey(dataDir));
  const crash = async () => {
    const code = await watched.crash();
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    return code;
  };
  return { url, rootKey: key, dataDir, stop, crash, output: watched.output };
}

/** The root key the server generated when started without one, or `''` if it wrote none. */
async function generatedRootKey(dataDir: string): Promise<string> {
  try {
    return (await readFile(join(dataDir, 'initial-root-key'), 'utf8')).trim();
  } catch {
    return '';
  }
}

interface WatchedProcess {
  output(): string;
  /** The exit status, or undefined while the process runs. */
  exitCode(): number | undefined;
  stop(): Promise<number>;
  crash(): Promise<number>;
}

/** Collects a child's output and exit status, and kills it if the test process ends first. */
function watch(child: ChildProcess): WatchedProcess {
  let output = '';
  let exitCode: number | undefined;
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));

  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
      process.removeListener('exit', killOnExit);
      resolve(exitCode);
    });
  });

  const stop = async () => {
    if (exitCode !== undefined) return exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const crash = async () => {
    if (exitCode !== undefined) return exitCode;
    child.kill('SIGKILL');
    return exited;
  };
  return { output: () => output, exitCode: () => exitCode, stop, crash };
}

async function waitUntilHealthy(url: string, server: WatchedProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;

  while (Date.now() < deadline) {
    const code = server.exitCode();
    if (code !== undefined) {
      throw new Error(`keygate serve exited with ${code} before it was ready:\n${server.output()}`);
    }
    if (await isHealthy(url)) return;
    await sleep(100);
  }
  throw new Error(
    `keygate serve was not healthy within ${READY_TIMEOUT_MS} ms:\n${server.output()}`,
  );
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** The environment minus every `KEYGATE_*` variable. */
export function withoutKeygateVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('KEYGATE_')));
}
