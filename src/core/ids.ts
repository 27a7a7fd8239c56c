import { randomBytes } from 'node:crypto';
import { encodeBytesBase62, encodeIntegerBase62 } from './base62.ts';

/** The kinds of record that carry a generated id, and their id prefixes. */
export type IdKind = 'ws' | 'root' | 'api' | 'key' | 'evt' | 'req' | 'idt' | 'rlo';

/**
 * A new id: the kind, `_`, the creation time in milliseconds (9 base62 characters) and 11
 * random characters, so ids sort by creation time and serve as list cursors.
 */
export function newId(kind: IdKind, now = Date.now()): string {
  return `${kind}_${encodeIntegerBase62(now, 9)}${encodeBytesBase62(randomBytes(8), 11)}`;
}
