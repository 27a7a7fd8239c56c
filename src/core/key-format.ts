import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { BASE62_ALPHABET, encodeBytesBase62, encodeIntegerBase62 } from './base62.ts';

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
  if (!isWellFormedKey(key)) return undefined;

  const split = key.length - RANDOM_LENGTH - CHECKSUM_LENGTH - 1;
  return {
    prefix: key.slice(0, split),
    random: key.slice(split + 1, split + 1 + RANDOM_LENGTH),
    checksum: key.slice(split + 1 + RANDOM_LENGTH),
  };
}

const UNDERSCORE = 0x5f;

/** CRC-32 (IEEE, reflected, as zlib computes it) of each byte value, for the table method. */
const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let byte = 0; byte < 256; byte += 1) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    table[byte] = crc;
  }
  return table;
})();

/** The value of each ASCII base62 digit; -1 for every other character. */
const BASE62_VALUES = (() => {
  const values = new Int8Array(128).fill(-1);
  for (let digit = 0; digit < BASE62_ALPHABET.length; digit += 1) {
    values[BASE62_ALPHABET.charCodeAt(digit)] = digit;
  }
  return values;
})();

/** What each ASCII character may be in a prefix: 1 a letter, 2 a digit, 3 `_`, 0 nothing. */
const PREFIX_CLASS = (() => {
  const classes = new Uint8Array(128);
  for (let code = 0x61; code <= 0x7a; code += 1) classes[code] = 1;
  for (let code = 0x30; code <= 0x39; code += 1) classes[code] = 2;
  classes[UNDERSCORE] = 3;
  return classes;
})();

/**
 * True when `key` reads `<prefix>_<random><checksum>` with a valid prefix and a matching
 * CRC-32. The same test as `parseKey`, in one pass over the characters and allocating nothing,
 * since every verification runs it before anything else.
 */
export function isWellFormedKey(key: string): boolean {
  const length = key.length;
  const split = length - RANDOM_LENGTH - CHECKSUM_LENGTH - 1;
  if (split < 1 || split > MAX_PREFIX_LENGTH || key.charCodeAt(split) !== UNDERSCORE) return false;
  // A letter first, and no `_` last.
  if (PREFIX_CLASS[key.charCodeAt(0)] !== 1 || key.charCodeAt(split - 1) === UNDERSCORE) {
    return false;
  }

  let crc = -1;
  for (let place = 0; place < split; place += 1) {
    const code = key.charCodeAt(place);
    if (code >= 128 || PREFIX_CLASS[code] === 0) return false;
    crc = (CRC_TABLE[(crc ^ code) & 0xff] as number) ^ (crc >>> 8);
  }
  crc = (CRC_TABLE[(crc ^ UNDERSCORE) & 0xff] as number) ^ (crc >>> 8);

  const checksumAt = length - CHECKSUM_LENGTH;
  for (let place = split + 1; place < checksumAt; place += 1) {
    const code = key.charCodeAt(place);
    if (code >= 128 || (BASE62_VALUES[code] as number) < 0) return false;
    crc = (CRC_TABLE[(crc ^ code) & 0xff] as number) ^ (crc >>> 8);
  }

  let checksum = 0;
  for (let place = checksumAt; place < length; place += 1) {
    const code = key.charCodeAt(place);
    const digit = code < 128 ? (BASE62_VALUES[code] as number) : -1;
    if (digit < 0) return false;
    checksum = checksum * 62 + digit;
  }
  return checksum === (crc ^ -1) >>> 0;
}

/** The displayable start of a key: its prefix, `_` and the first four random characters. */
export function keyStart(parsed: Pick<ParsedKey, 'prefix' | 'random'>): string {
  return `${parsed.prefix}_${parsed.random.slice(0, 4)}`;
}
