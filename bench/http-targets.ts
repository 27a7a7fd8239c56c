/** The servers part (a) compares, each in its own process, ready to take verifications. */
import { randomBytes } from 'node:crypto';
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

/** Starts keygate with a fresh data directory, and creates an API and a key over HTTP. */
export async function startKeygateTarget(logLevel: 'info' | 'warn'): Promise<HttpTarget> {
  const dataDir = await makeTempDir(`keygate-${logLevel}`);
  const rootKey = randomBytes(20).toString('hex');
  const child = startChild({
    name: `keygate (${logLevel})`,
    module: new URL('./targets/keygate-server.ts', import.meta.url),
    env: { KEYGATE_DATA_DIR: dataDir, KEYGATE_ROOT_KEY: rootKey, KEYGATE_LOG_LEVEL: logLevel },
  });
  const stop = async () => {
    await child.stop();
    await removeTempDir(dataDir);
  };

  try {
    const { url } = await child.message<{ kind: 'ready'; url: string }>('ready', READY_TIMEOUT_MS);
    const key = await createBenchKey(url, rootKey);
    const call = { baseUrl: url, rootKey, key };
    await expectValidAnswer(call);
    const description = `keygate server on SQLite, log level ${logLevel}`;
    return { name: `keygate ${logLevel}`, description, call, child, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts the lean verifier: node:http, JSON.parse, one HMAC and a Map lookup. */
export function startLeanTarget(): Promise<HttpTarget> {
  const key = generateKey('kg');
  return startPlainTarget('lean', 'node:http + JSON.parse + HMAC-SHA256 + Map', key, {
    BENCH_KEY: key,
  });
}

/** Starts the bare server: node:http answering a fixed JSON. */
export function startBareTarget(): Promise<HttpTarget> {
  return startPlainTarget('bare', 'node:http, fixed answer, body not read', generateKey('kg'), {});
}

async function startPlainTarget(
  name: 'lean' | 'bare',
  description: string,
  key: string,
  env: Record<string, string>,
): Promise<HttpTarget> {
  const child = startChild({
    name,
    module: new URL(`./targets/${name}-server.ts`, import.meta.url),
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

/** Creates an API and a key with no settings, as a user would, and answers the key. */
async function createBenchKey(baseUrl: string, rootKey: string): Promise<string> {
  const api = await postJson<{ id: string }>(baseUrl, '/v1/apis', rootKey, { name: 'bench' });
  const created = await postJson<{ key: string }>(baseUrl, `/v1/apis/${api.id}/keys`, rootKey, {});
  return created.key;
}

/** Throws unless the target answers the bench's verification with 200 and `valid: true`. */
async function expectValidAnswer(call: VerifyCall): Promise<void> {
  const body = { key: call.key };
  const path = '/v1/keys/verify';
  const answer = await postJson<{ valid?: unknown }>(call.baseUrl, path, call.rootKey, body);
  if (answer.valid !== true) {
    throw new Error(`${call.baseUrl} did not verify the bench key: ${JSON.stringify(answer)}`);
  }
}

async function postJson<T>(baseUrl: string, path: string, rootKey: string, body: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${rootKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}
