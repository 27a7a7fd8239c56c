import type { IncomingMessage } from 'node:http';
import secureJson from 'secure-json-parse';
import { KeygateError } from '../services/errors.ts';

/** The largest request body accepted. */
export const BODY_LIMIT = 64 * 1024;

/** What `readBody` answers for a body over `BODY_LIMIT`; the rest of it is discarded. */
export const TOO_LARGE = Symbol('too large');

/** The client went away before its whole body arrived; there is nobody left to answer. */
export class BodyAbortedError extends Error {
  override name = 'BodyAbortedError';
}

/** Reads a request's body as UTF-8 text, up to `BODY_LIMIT` bytes. */
export function readBody(request: IncomingMessage): Promise<string | typeof TOO_LARGE> {
  if (Number(request.headers['content-length']) > BODY_LIMIT) {
    request.resume();
    return Promise.resolve(TOO_LARGE);
  }

  if (request.destroyed) {
    return Promise.reject(new BodyAbortedError('the connection closed before the body ended'));
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk);
      else resolve(TOO_LARGE); // and the rest is read and dropped
    });
    request.on('end', () => {
      resolve(chunks.length === 1 ? String(chunks[0]) : Buffer.concat(chunks).toString('utf8'));
    });
    // Node reports a client that hung up mid-body as an error of the request.
    request.on('error', (cause) => reject(new BodyAbortedError('the body was cut off', { cause })));
  });
}

/**
 * A request body as JSON. Keys named `__proto__`, or `constructor` holding `prototype`, are
 * refused rather than parsed: they exist only to pollute prototypes.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') {
    throw new KeygateError('BAD_REQUEST', 'the body is empty; send a JSON object', [
      { path: 'body', message: 'is required' },
    ]);
  }
  try {
    return secureJson.parse(text, null, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const detail = `the body is not valid JSON: ${(error as Error).message}`;
    throw new KeygateError('BAD_REQUEST', detail, [{ path: 'body', message: 'is not valid JSON' }]);
  }
}
