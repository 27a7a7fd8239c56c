import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { newRequestId } from '../core/ids.ts';
import type { Keygate } from '../services/keygate.ts';
import type { VerifyRequest } from '../services/verify.ts';
import { authenticate } from './authenticate.ts';
import { BodyAbortedError, parseJsonBody, readBody, TOO_LARGE } from './body.ts';
import type { KeygateMetrics } from './metrics.ts';
import { type Problem, problemBody, problemOf, statusOf, validationProblem } from './problem.ts';
import { VerifyBody, verifyMeasured, verifyResultJson } from './routes/verify.ts';
import { TurnBatch } from './turn-batch.ts';
import { compileBodySchema } from './validation.ts';

const ROUTE = '/v1/keys/verify';
const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

const UNAUTHORIZED: Problem = {
  code: 'UNAUTHORIZED',
  detail: 'a valid root key is required in Authorization: Bearer',
};
const TOO_LARGE_PROBLEM: Problem = {
  code: 'PAYLOAD_TOO_LARGE',
  detail: 'the body is larger than 64 KiB',
};
const CLOSING: Problem = { code: 'SERVICE_UNAVAILABLE', detail: 'keygate is shutting down' };

const validateVerifyBody = compileBodySchema(VerifyBody);

export interface FastVerifyOptions {
  keygate: Keygate;
  metrics: KeygateMetrics;
  log: FastifyBaseLogger;
  /** Take the client address from `X-Forwarded-For`. */
  trustProxy: boolean;
  /** True once the server has begun to stop: new requests are turned away. */
  closing(): boolean;
}

/** Serves one request if it is a verification it can take; `false` leaves it to Fastify. */
export type FastVerify = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * `POST /v1/keys/verify` with a JSON body, served straight from node:http: verification is
 * the one hot route, and Fastify's per-request work (request and reply objects, hooks, a
 * child logger) costs it a fifth of its throughput. The contract is the Fastify route's: the
 * same schema and validator, the same answers and problems, one request log line. Anything
 * else on that path (another content type, a query string) goes to the Fastify route.
 */
export function createFastVerify(options: FastVerifyOptions): FastVerify {
  // The route's fields go into the logger once, not into every line's object.
  const requestLog = options.log.child({ method: 'POST', route: ROUTE });
  const answers = new TurnBatch((error) => options.log.error({ err: error }, 'answer not written'));
  return (request, response) => {
    if (request.method !== 'POST' || request.url !== ROUTE) return false;
    if (!isJson(request.headers['content-type'])) return false;

    serveVerify(options, new Exchange(options, requestLog, answers, response), request);
    return true;
  };
}

async function serveVerify(
  options: FastVerifyOptions,
  exchange: Exchange,
  request: IncomingMessage,
) {
  try {
    if (options.closing()) return exchange.problem(CLOSING);

    const ip = clientAddress(request, options.trustProxy);
    const authenticating = authenticate(options.keygate, request.headers, ip);
    const actor =
      authenticating instanceof Promise ? await exchange.after(authenticating) : authenticating;
    if (!actor) return exchange.problem(UNAUTHORIZED);

    const body = await readBody(request);
    if (body === TOO_LARGE) return exchange.problem(TOO_LARGE_PROBLEM, true);

    const input = parseVerifyBody(body);
    if ('problem' in input) return exchange.problem(input.problem);

    const verifying = verifyMeasured(options.keygate, options.metrics, actor, input.request);
    const outcome = verifying instanceof Promise ? await exchange.after(verifying) : verifying;
    exchange.answer(200, JSON_TYPE, verifyResultJson(outcome));
  } catch (error) {
    if (error instanceof BodyAbortedError) return exchange.abandon();
    exchange.problem(problemOf(error, options.log));
  }
}

type ParsedBody = { request: VerifyRequest } | { problem: Problem };

/** The body as a verify request, or the 400 that names what is wrong with it. */
function parseVerifyBody(text: string): ParsedBody {
  const value = parseJsonBody(text);
  if (!validateVerifyBody(value)) {
    return { problem: validationProblem('body', validateVerifyBody.errors ?? []) };
  }
  return { request: value as VerifyRequest };
}

/** One request's answer and its log line. */
class Exchange {
  readonly id = newRequestId();
  readonly #started = performance.now();
  #waited = false;

  constructor(
    private readonly options: FastVerifyOptions,
    private readonly requestLog: FastifyBaseLogger,
    private readonly answers: TurnBatch,
    private readonly response: ServerResponse,
  ) {}

  problem(problem: Problem, close = false): void {
    const text = JSON.stringify(problemBody(problem, this.id));
    this.answer(statusOf(problem.code), PROBLEM_TYPE, text, close);
  }

  /**
   * Waits for the store or the counters. An answer that had to wait is written as soon as it is
   * decided: its turn of the event loop is over, and the answers that waited with it (a group
   * commit's, say) are decided together anyway.
   */
  after<T>(work: Promise<T>): Promise<T> {
    this.#waited = true;
    return work;
  }

  /** Answers at once if the request had to wait, or else with the others of this turn. */
  answer(status: number, type: string, text: string, close = false): void {
    if (this.#waited) this.write(status, type, text, close);
    else this.answers.add(() => this.write(status, type, text, close));
  }

  private write(status: number, type: string, text: string, close: boolean): void {
    const headers: Record<string, string | number> = {
      'content-type': type,
      'content-length': Buffer.byteLength(text),
    };
    if (close || this.options.closing()) headers.connection = 'close';
    this.response.writeHead(status, headers).end(text);
    this.log(status);
  }

  /** The client left mid-body: nothing is answered, and the log says 499 as nginx's do. */
  abandon(): void {
    this.response.destroy();
    this.log(499);
  }

  private log(status: number): void {
    const ms = Math.round((performance.now() - this.#started) * 100) / 100;
    this.requestLog.info({ reqId: this.id, status, ms }, 'request');
    this.options.metrics.answered('POST', ROUTE, status);
  }
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const end = contentType.indexOf(';');
  const type = (end === -1 ? contentType : contentType.slice(0, end)).trim().toLowerCase();
  return type === 'application/json';
}

/** The caller's address: the socket's, or behind a trusted proxy the first forwarded one. */
function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  const forwarded = request.headers['x-forwarded-for'];
  if (trustProxy && typeof forwarded === 'string' && forwarded !== '') {
    return forwarded.split(',')[0]?.trim() ?? '';
  }
  return request.socket.remoteAddress ?? '';
}
