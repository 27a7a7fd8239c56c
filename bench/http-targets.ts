/** The servers part (a) compares, each in its own process, ready to take verifications. */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKey } from '../src/core/key-format.ts';
import type { VerifyCall } from './http-load.ts';
import { type BenchChild, makeTempDir, removeTempDir, startChild } from './processes.ts';

const READY_TIMEOUT_MS = 30_000;

/** One server under test. */
export interface HttpTarget {
  name: string;
  /** What it is, for the report. */
  description: string;
  call: VerifyCall;
  child: BenchChild;
  stop(): Promise<void>;
}

/** CPU time in microseconds, in user space and in the kernel. */
export interface CpuTime {
  user: number;
  system: number;
}

/** The CPU time the target's process has used so far. */
export async function serverCpuTime(target: HttpTarget): Promise<CpuTime> {
  target.child.send({ kind: 'cpu-usage' });
  const { user, system } = await target.child.message<{ kind: 'cpu' } & CpuTime>(
    'cpu',
    READY_TIMEOUT_MS,
  );
  return { user, system };
}

/** The keygate targets: the server's log level, the key the bench verifies, usage counting. */
export type KeygateVariant = 'info' | 'warn' | 'limits' | 'usage-off';

// A full run sends about 50k req/s × 5 rounds × 6 s = 1.5 million verifications per target, so
// a billion never denies. It also keeps the token bucket's limit × duration (6 × 10^13) below
// 2^53, which its integer arithmetic needs; the key schema alone would allow more.
const NEVER_REACHED = 1_000_000_000;

/** Two rate limits, one of each algorithm, and credits: every verification charges all three. */
const LIMITED_KEY = {
  ratelimits: [
    { name: 'per-second', limit: NEVER_REACHED, duration: 1_000 },
    { name: 'burst', limit: NEVER_REACHED, duration: 60_000, algorithm: 'token-bucket' },
  ],
  credits: { remaining: NEVER_REACHED },
};

/** How a keygate target is set up. */
interface KeygateSetup {
  logLevel: 'info' | 'warn';
  /** The settings the bench key is created with. */
  key: Record<string, unknown>;
  /** What sets the target apart, for its description. */
  about: string;
  /** Whether a valid answer shows the key's settings at work, so that no plain key stands in. */
  shows?: (answer: VerifyAnswer) => boolean;
  /** Settings of the server besides its data directory, root key and log level. */
  env?: Record<string, string>;
  /** Throws unless the server, once it has verified the key, works as the setup says. */
  check?: (call: VerifyCall) => Promise<void>;
}

/** What the startup check reads of a verification's answer. */
interface VerifyAnswer {
  valid?: unknown;
  ratelimits?: unknown;
  credits?: { remaining?: unknown };
}

const SETUPS: Record<KeygateVariant, KeygateSetup> = {
  info: { logLevel: 'info', key: {}, about: 'log level info' },
  warn: { logLevel: 'warn', key: {}, about: 'log level warn' },
  limits: {
    logLevel: 'info',
    key: LIMITED_KEY,
    about: 'log level info, key with 2 rate limits and credits',
    shows: ({ ratelimits, credits }) =>
      Array.isArray(ratelimits) &&
      ratelimits.length === 2 &&
      typeof credits?.remaining === 'number',
  },
  'usage-off': {
    logLevel: 'info',
    key: {},
    about: 'log level info, usage counting off (KEYGATE_USAGE=off)',
    env: { KEYGATE_USAGE: 'off' },
    check: expectNothingCounted,
  },
};

/** Starts keygate with a fresh data directory, and creates an API and a key over HTTP. */
export async function startKeygateTarget(variant: KeygateVariant): Promise<HttpTarget> {
  const { logLevel, key: settings, about, shows, env, check } = SETUPS[variant];
  const dataDir = await makeTempDir(`keygate-${variant}`);
  const rootKey = randomBytes(20).toString('hex');
  const child = startChild({
    name: `keygate (${variant})`,
    module: new URL('./targets/keygate-server.ts', import.meta.url),
    env: {
      ...env,
      KEYGATE_DATA_DIR: dataDir,
      KEYGATE_ROOT_KEY: rootKey,
      KEYGATE_LOG_LEVEL: logLevel,
    },
  });
  const stop = async () => {
    await child.stop();
    await removeTempDir(dataDir);
  };

  try {
    const { url } = await child.message<{ kind: 'ready'; url: string }>('ready', READY_TIMEOUT_MS);
    const key = await createBenchKey(url, rootKey, settings);
    const call = { baseUrl: url, rootKey, key };
    await expectValidAnswer(call, shows);
    await check?.(call);
    const description = `keygate server on SQLite, ${about}`;
    return { name: `keygate ${variant}`, description, call, child, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Starts the lean verifier: node:http, JSON.parse, one HMAC and a Map lookup. Batched, it
 * writes the answers of each turn of the event loop together at its end, as keygate does.
 */
export function startLeanTarget(batched = false): Promise<HttpTarget> {
  const key = generateKey('kg');
  const what = 'node:http + JSON.parse + HMAC-SHA256 + Map';
  if (!batched) return startPlainTarget('lean', 'lean', what, key, { BENCH_KEY: key });

  const env = { BENCH_KEY: key, BENCH_BATCH_ANSWERS: '1' };
  return startPlainTarget('lean batched', 'lean', `${what}, answers written per turn`, key, env);
}

/** Starts the bare server: node:http answering a fixed JSON. */
export function startBareTarget(): Promise<HttpTarget> {
  const what = 'node:http, fixed answer, body not read';
  return startPlainTarget('bare', 'bare', what, generateKey('kg'), {});
}

async function startPlainTarget(
  name: string,
  server: 'lean' | 'bare',
  description: string,
  key: string,
  env: Record<string, string>,
): Promise<HttpTarget> {
  const child = startChild({
    name,
    module: new URL(`./targets/${server}-server.ts`, import.meta.url),
    env,
  });
  const stop = () => child.stop();

  try {
    const { url } = await child.message<{ kind: 'ready'; url: string }>('ready', READY_TIMEOUT_MS);
    const call = { baseUrl: url, rootKey: randomBytes(20).toString('hex'), key };
    await expectValidAnswer(call);
    return { name, description, call, child, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Creates an API and a key with `settings`, as a user would, and answers the key. */
async function createBenchKey(
  baseUrl: string,
  rootKey: string,
  settings: Record<string, unknown>,
): Promise<string> {
  const api = await postJson<{ id: string }>(baseUrl, '/v1/apis', rootKey, { name: 'bench' });
  const path = `/v1/apis/${api.id}/keys`;
  const created = await postJson<{ key: string }>(baseUrl, path, rootKey, settings);
  return created.key;
}

/** Throws unless the target answers the bench key with 200, `valid: true` and what `shows` asks. */
async function expectValidAnswer(
  call: VerifyCall,
  shows: (answer: VerifyAnswer) => boolean = () => true,
): Promise<void> {
  const body = { key: call.key };
  const path = '/v1/keys/verify';
  const answer = await postJson<VerifyAnswer>(call.baseUrl, path, call.rootKey, body);
  const seen = JSON.stringify(answer);
  if (answer.valid !== true) {
    throw new Error(`${call.baseUrl} did not verify the bench key: ${seen}`);
  }
  if (!shows(answer)) {
    throw new Error(`${call.baseUrl} verified the bench key without its settings at work: ${seen}`);
  }
}

// Longer than the usage recorder's write interval (1 s by default): a server that counts usage
// has written the startup verification by then.
const USAGE_WRITE_WAIT_MS = 1_500;

/** Throws if the server counted the startup verification, as it would with usage counting on. */
async function expectNothingCounted(call: VerifyCall): Promise<void> {
  await sleep(USAGE_WRITE_WAIT_MS);
  const usage = await getJson<{ totals: Record<string, number> }>(
    call.baseUrl,
    '/v1/usage',
    call.rootKey,
  );
  const counted = Object.values(usage.totals).reduce((sum, value) => sum + value, 0);
  if (counted > 0) {
    throw new Error(`${call.baseUrl} counted ${counted} verifications with usage counting off`);
  }
}

function postJson<T>(baseUrl: string, path: string, rootKey: string, body: unknown): Promise<T> {
  return requestJson<T>('POST', baseUrl, path, rootKey, JSON.stringify(body));
}

function getJson<T>(baseUrl: string, path: string, rootKey: string): Promise<T> {
  return requestJson<T>('GET', baseUrl, path, rootKey, undefined);
}

async function requestJson<T>(
  method: 'GET' | 'POST',
  baseUrl: string,
  path: string,
  rootKey: string,
  body: string | undefined,
): Promise<T> {
  const json: Record<string, string> =
    body === undefined ? {} : { 'content-type': 'application/json' };
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${rootKey}`, ...json },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}
