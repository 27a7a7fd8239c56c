import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { encodeBytesBase62, encodeIntegerBase62 } from './base62.ts';

/** Length of the random part of a key, in base62 characters (24 bytes, about 190 bits). */
export const RANDOM_LENGTH = 33;
/** Length of the CRC-32 checksum, in base62 characters. */
export const CHECKSUM_LENGTH = 6;
/** The longest prefix an API may set. */
export const MAX_PREFIX_LENGTH = 20;

/** Matches every keygate key; published for secret scanners. */
export const KEY_PATTERN = /^[a-z][a-z0-9_]{0,19}_[0-9A-Za-z]{39}$/;

const PREFIX_PATTERN = /^[a-z](?:[a-z0-9_]{0,18}[a-z0-9])?$/;

/** A key split into its parts. */
export interface ParsedKey {
  prefix: string;
  random: string;
  checksum: string;
}

/** True when `prefix` may start a key: 1–20 of `[a-z0-9_]`, a letter first, no trailing `_`. */
export function isValidPrefix(prefix: string): boolean {
  return PREFIX_PATTERN.test(prefix);
}

/** The checksum of `<prefix>_<random>`: CRC-32 (IEEE) in base62, six characters. */
export function keyChecksum(prefix: string, random: string): string {
  return encodeIntegerBase62(crc32(`${prefix}_${random}`), CHECKSUM_LENGTH);
}

/**
 * Generates a new key with the operating system's CSPRNG.
 *
 * @example generateKey('kg') // 'kg_3Zx…' (prefix, `_`, 33 random and 6 checksum characters)
 */
export function generateKey(prefix: string): string {
  if (!isValidPrefix(prefix)) throw new RangeError(`invalid key prefix: ${prefix}`);

  const random = encodeBytesBase62(randomBytes(24), RANDOM_LENGTH);
  return `${prefix}_${random}${keyChecksum(prefix, random)}`;
}

/**
 * Splits a presented key and checks its checksum without touching any store.
 * Returns `undefined` for anything that is not a well-formed keygate key.
 */
export function parseKey(key: string): ParsedKey | undefined {
  if (key.length > MAX_PREFIX_LENGTH + 40 || !KEY_PATTERN.test(key)) return undefined;

  const split = key.length - RANDOM_LENGTH - CHECKSUM_LENGTH - 1;
  const prefix = key.slice(0, split);
  if (!isValidPrefix(prefix)) return undefined;

  const random = key.slice(split + 1, split + 1 + RANDOM_LENGTH);
  const checksum = key.slice(split + 1 + RANDOM_LENGTH);
  if (keyChecksum(prefix, random) !== checksum) return undefined;

  return { prefix, random, checksum };
}

/** The displayable start of a key: its prefix, `_` and the first four random characters. */
export function keyStart(parsed: Pick<ParsedKey, 'prefix' | 'random'>): string {
  return `${parsed.prefix}_${parsed.random.slice(0, 4)}`;
}
