import { randomBytes } from 'node:crypto';
import { encodeBytesBase62, encodeIntegerBase62 } from './base62.ts';

/** The kinds of record that carry a generated id, and their id prefixes. */
export type IdKind = 'ws' | 'root' | 'api' | 'key' | 'evt' | 'idt' | 'rlo' | 'bal';

const RANDOM_WIDTH = 11;
/** The last id made of each kind, so ids of one kind made in one millisecond count up. */
const lastIds = new Map<IdKind, { time: number; random: bigint }>();

/**
 * A new id: the kind, `_`, the creation time in milliseconds (9 base62 characters) and 11
 * random characters, so ids sort by creation time and serve as list cursors. Ids of one kind
 * made in the same millisecond by this process count up from the first one's random part, so
 * they sort in the order they were made.
 */
export function newId(kind: IdKind, now = Date.now()): string {
  const last = lastIds.get(kind);
  const random = last?.time === now ? last.random + 1n : randomBytes(8).readBigUInt64BE();
  lastIds.set(kind, { time: now, random });
  return `${kind}_${encodeIntegerBase62(now, 9)}${encodeBigIntBase62(random)}`;
}

/** The random part in base62; it may have counted past 2^64, which still fits 11 characters. */
function encodeBigIntBase62(value: bigint): string {
  const bytes = Buffer.alloc(9);
  bytes[0] = Number(value >> 64n);
  bytes.writeBigUInt64BE(value & 0xffffffffffffffffn, 1);
  return encodeBytesBase62(bytes, RANDOM_WIDTH);
}

/** A random tag of this process, so that request ids of several processes do not collide. */
const PROCESS_TAG = encodeBytesBase62(randomBytes(4), 5).slice(-5);
const REQUEST_COUNTER_LIMIT = 62 ** 6;
let requestCounter = 0;
let lastRequestTime = -1;
let lastRequestTimeText = '';

/**
 * A request id shaped like the ids of records (`req_`, nine time characters, eleven more), made
 * without the CSPRNG from the time, a random tag of this process and a counter. Request ids
 * name log lines and answers; nothing secret hangs on them, and every answer needs one.
 */
export function newRequestId(now = Date.now()): string {
  if (now !== lastRequestTime) {
    lastRequestTime = now;
    lastRequestTimeText = encodeIntegerBase62(now, 9);
  }
  requestCounter = (requestCounter + 1) % REQUEST_COUNTER_LIMIT;
  return `req_${lastRequestTimeText}${PROCESS_TAG}${encodeIntegerBase62(requestCounter, 6)}`;
}
