/**
 * Bench target: the least work a verification over HTTP must do. It reads the body, parses
 * it, hashes the key with HMAC-SHA256 under a pepper, finds the hash in a `Map` and answers a
 * JSON body of the size keygate answers. No framework, no authentication, no logging.
 *
 * With `BENCH_BATCH_ANSWERS=1` it writes its answers as keygate does: each is decided at once,
 * and the answers decided in one turn of the event loop are written together at its end.
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { profileOnRequest, reportCpuUsage, stopWithParent, tellParent } from './child-protocol.ts';

const pepper = createSecretKey(randomBytes(32));
const keysByHash = new Map<string, KeyAnswer>();

/** What keygate answers for a valid key with no settings. */
interface KeyAnswer {
  keyId: string;
  apiId: string;
  name: string | null;
  externalId: string | null;
  meta: Record<string, unknown> | null;
  permissions: string[];
  enabled: boolean;
  expiresAt: string | null;
  credits: { remaining: number | null };
  ratelimits: unknown[];
}

function hashOf(key: string): string {
  return createHmac('sha256', pepper).update(key).digest('hex');
}

function answerVerify(body: string, response: ServerResponse): void {
  let key: unknown;
  try {
    key = (JSON.parse(body) as { key?: unknown }).key;
  } catch {
    response.writeHead(400).end();
    return;
  }

  const found = typeof key === 'string' ? keysByHash.get(hashOf(key)) : undefined;
  const answer = found
    ? { valid: true, code: 'VALID', ...found }
    : { valid: false, code: 'NOT_FOUND' };
  const text = JSON.stringify(answer);
  if (batchAnswers) writeAtTurnEnd(response, text);
  else writeAnswer(response, text);
}

function writeAnswer(response: ServerResponse, text: string): void {
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

const batchAnswers = process.env.BENCH_BATCH_ANSWERS === '1';
let waiting: { response: ServerResponse; text: string }[] = [];

function writeAtTurnEnd(response: ServerResponse, text: string): void {
  waiting.push({ response, text });
  if (waiting.length > 1) return;

  setImmediate(() => {
    const batch = waiting;
    waiting = [];
    for (const answer of batch) writeAnswer(answer.response, answer.text);
  });
}

function onRequest(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => answerVerify(Buffer.concat(chunks).toString('utf8'), response));
}

const benchKey = process.env.BENCH_KEY;
if (!benchKey) throw new Error('BENCH_KEY must name the key to accept');
keysByHash.set(hashOf(benchKey), {
  keyId: `key_${randomBytes(15).toString('base64url')}`,
  apiId: `api_${randomBytes(15).toString('base64url')}`,
  name: null,
  externalId: null,
  meta: null,
  permissions: [],
  enabled: true,
  expiresAt: null,
  credits: { remaining: null },
  ratelimits: [],
});

const server = createServer(onRequest);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port was assigned');
  tellParent({ kind: 'ready', url: `http://127.0.0.1:${address.port}` });
});
reportCpuUsage();
profileOnRequest();
stopWithParent(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
