import { randomBytes } from 'node:crypto';
import { encodeBytesBase62, encodeIntegerBase62 } from './base62.ts';

/** The kinds of record that carry a generated id, and their id prefixes. */
export type IdKind = 'ws' | 'root' | 'api' | 'key' | 'evt' | 'req' | 'idt' | 'rlo';

const RANDOM_WIDTH = 11;
let lastTime = 0;
let lastRandom = 0n;

/**
 * A new id: the kind, `_`, the creation time in milliseconds (9 base62 characters) and 11
 * random characters, so ids sort by creation time and serve as list cursors. Ids made in the
 * same millisecond by this process count up from the first one's random part, so they sort
 * in the order they were made.
 */
export function newId(kind: IdKind, now = Date.now()): string {
  if (now > lastTime) {
    lastTime = now;
    lastRandom = randomBytes(8).readBigUInt64BE();
  } else {
    lastRandom += 1n;
  }
  return `${kind}_${encodeIntegerBase62(lastTime, 9)}${encodeBigIntBase62(lastRandom)}`;
}

/** The random part in base62; it may have counted past 2^64, which still fits 11 characters. */
function encodeBigIntBase62(value: bigint): string {
  const bytes = Buffer.alloc(9);
  bytes[0] = Number(value >> 64n);
  bytes.writeBigUInt64BE(value & 0xffffffffffffffffn, 1);
  return encodeBytesBase62(bytes, RANDOM_WIDTH);
}
