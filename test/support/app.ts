import { Writable } from 'node:stream';
import { type InjectOptions, inject, type Response } from 'light-my-request';
import { pino } from 'pino';
import { createPepper } from '../../src/core/hashing.ts';
import { MemoryCounters } from '../../src/counters/memory/memory-counters.ts';
import { buildApp, type KeygateApp } from '../../src/http/app.ts';
import { createKeygate, type Keygate } from '../../src/services/keygate.ts';
import type { StoreKind } from '../../src/store/migrations.ts';
import { openTestStore } from './databases.ts';

/** A clock the test moves by hand. */
export interface TestClock {
  (): number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function createTestClock(start = Date.parse('2026-01-15T12:00:00Z')): TestClock {
  let now = start;
  const clock = (() => now) as TestClock;
  clock.set = (ms) => {
    now = ms;
  };
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

/** An in-process keygate on a real database, with the log lines it wrote. */
export interface TestApp {
  app: KeygateApp;
  keygate: Keygate;
  clock: TestClock;
  /** The bootstrap root key, holding `*`. */
  rootKey: string;
  /** Every log line written so far, as text. */
  logs(): string;
  /** Sends a request with the bootstrap root key unless `rootKey` says otherwise. */
  request(options: TestRequest): Promise<TestResponse>;
  /**
   * Sends a request exactly as written, through the server's own request listener, as a
   * request on a socket would go: the verify fast path included.
   */
  inject(options: InjectOptions): Promise<Response>;
  close(): Promise<void>;
}

export interface TestRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  body?: unknown;
  /** `null` sends no Authorization header. */
  rootKey?: string | null;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Record<string, unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers field by field, as a client would
  body: any;
  text: string;
}

export const TEST_PEPPER = 'test-pepper-that-is-long-enough-for-keygate';

/** Starts keygate in process on a fresh database of `kind`. */
export async function startTestApp(kind: StoreKind): Promise<TestApp> {
  const store = await openTestStore(kind);
  const clock = createTestClock(Date.now());
  const keygate = createKeygate({
    store,
    counters: new MemoryCounters(),
    pepper: createPepper(TEST_PEPPER),
    clock,
  });
  const boot = await keygate.workspaces.bootstrap(undefined);
  if (boot.kind !== 'created') throw new Error('a fresh test store was not empty');

  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const app = await buildApp({ keygate, logger: pino({ level: 'debug' }, sink) });
  await app.ready();

  const send = (options: InjectOptions) =>
    inject((req, res) => app.server.emit('request', req, res), options);
  const request = async (options: TestRequest): Promise<TestResponse> => {
    const rootKey = options.rootKey === undefined ? boot.rootKey : options.rootKey;
    const response = await send({
      method: options.method,
      url: options.url,
      headers: {
        ...(rootKey === null ? {} : { authorization: `Bearer ${rootKey}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined
        ? {}
        : {
            payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
          }),
    });
    const text = response.body;
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {}
    return { status: response.statusCode, headers: response.headers, body, text };
  };

  return {
    app,
    keygate,
    clock,
    rootKey: boot.rootKey,
    logs: () => lines.join(''),
    request,
    inject: send,
    async close() {
      await app.close();
      await keygate.close();
      await keygate.counters.close();
      await store.close();
    },
  };
}
