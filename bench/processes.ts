/**
 * The bench's child processes and temporary directories: started here, and stopped or removed
 * here even when a part fails or the bench is interrupted.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STOP_TIMEOUT_MS = 10_000;
const STDERR_KEPT_CHARS = 8_000;

/** A message a bench child sends over its IPC channel. */
export interface ChildMessage {
  kind: string;
}

/** A running child of the bench. */
export interface BenchChild {
  name: string;
  /** Resolves with the first message of this kind; rejects if the child exits first. */
  message<T extends ChildMessage>(kind: T['kind'], timeoutMs: number): Promise<T>;
  send<T extends ChildMessage>(message: T): void;
  /** SIGTERM, then SIGKILL after a timeout; resolves once the child has exited. */
  stop(): Promise<void>;
}

/** What to run in a child process. */
export interface ChildSpec {
  name: string;
  /** A TypeScript module of `bench/`, run through tsx. */
  module: URL;
  env?: Record<string, string>;
  /** Node options besides `--import tsx`, such as `--expose-gc`. */
  nodeOptions?: string[];
}

const liveChildren = new Set<BenchChild>();
const tempDirs = new Set<string>();

/** Starts a bench module in its own process; its stdout goes to /dev/null. */
export function startChild(spec: ChildSpec): BenchChild {
  const child = fork(spec.module, [], {
    execArgv: ['--import', 'tsx', ...(spec.nodeOptions ?? [])],
    env: { ...withoutKeygateVariables(process.env), ...spec.env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const watched = watchChild(spec.name, child);
  liveChildren.add(watched);
  return watched;
}

/** The environment minus `KEYGATE_*`, so a child sees only the settings the bench gives it. */
function withoutKeygateVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('KEYGATE_')));
}

function watchChild(name: string, child: ChildProcess): BenchChild {
  let stderr = '';
  const messages: ChildMessage[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEPT_CHARS);
  });
  child.on('message', (message: ChildMessage) => messages.push(message));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failure = () =>
    new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${stderr}`);

  const watched: BenchChild = {
    name,
    message: (kind, timeoutMs) => awaitMessage(child, messages, kind, timeoutMs, failure),
    send: (message) => child.send(message),
    stop: async () => {
      liveChildren.delete(watched);
      await terminate(child, exited);
    },
  };
  return watched;
}

function awaitMessage<T extends ChildMessage>(
  child: ChildProcess,
  messages: ChildMessage[],
  kind: string,
  timeoutMs: number,
  failure: () => Error,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const take = () => {
      const index = messages.findIndex((message) => message.kind === kind);
      if (index < 0) return false;
      finish();
      resolve(messages.splice(index, 1)[0] as T);
      return true;
    };
    const onExit = () => {
      if (take()) return;
      finish();
      reject(failure());
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no "${kind}" message from the child within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      child.off('message', take);
      child.off('exit', onExit);
    };

    if (take()) return;
    if (child.exitCode !== null || child.signalCode !== null) return onExit();
    child.on('message', take);
    child.once('exit', onExit);
  });
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;

  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

const TEMP_PREFIX = 'keygate-bench-';

/** A fresh temporary directory, removed by `cleanUp` if not removed before. */
export async function makeTempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}${process.pid}-${label}-`));
  tempDirs.add(dir);
  return dir;
}

/** Removes a directory made by `makeTempDir`. */
export async function removeTempDir(dir: string): Promise<void> {
  tempDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

/**
 * Removes the temporary directories of bench runs whose process is gone: a run killed with
 * SIGKILL cannot clean up after itself.
 */
export async function removeStaleTempDirs(): Promise<void> {
  const names = await readdir(tmpdir());
  const stale = names.filter((name) => {
    const pid = Number(name.slice(TEMP_PREFIX.length).split('-')[0]);
    return name.startsWith(TEMP_PREFIX) && Number.isInteger(pid) && !isRunning(pid);
  });
  await Promise.allSettled(stale.map((name) => rm(join(tmpdir(), name), { recursive: true })));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops every child still running and removes every temporary directory left. */
export async function cleanUp(): Promise<void> {
  await Promise.allSettled([...liveChildren].map((child) => child.stop()));
  await Promise.allSettled([...tempDirs].map((dir) => removeTempDir(dir)));
}
