import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BASE62_ALPHABET, encodeBytesBase62, encodeIntegerBase62 } from '../../src/core/base62.ts';
import { createPepper, hashKey, secretsEqual } from '../../src/core/hashing.ts';
import { type IdKind, newId, newRequestId } from '../../src/core/ids.ts';
import {
  CHECKSUM_LENGTH,
  generateKey,
  isValidPrefix,
  isWellFormedKey,
  KEY_PATTERN,
  keyChecksum,
  keyStart,
  MAX_PREFIX_LENGTH,
  parseKey,
  RANDOM_LENGTH,
} from '../../src/core/key-format.ts';

const validPrefix = fc.oneof(
  fc.constantFrom('kg', 'kg_root', 'my_app_v2', 'a', 'a_b', 'z9', 'abcdefghij_klmnopq_r'),
  fc.stringMatching(/^[a-z](?:[a-z0-9_]{0,18}[a-z0-9])?$/),
);
const invalidPrefixes = ['', '_a', 'a_', 'A', 'Kg', '1a', 'a-b', 'a.b', 'ü', 'a'.repeat(21)];

/** Every character a key may hold in some position. */
const KEY_CHARACTERS = `abcdefghijklmnopqrstuvwxyz0123456789_ABCDEFGHIJKLMNOPQRSTUVWXYZ`;

/** CRC-32 (IEEE), written out here so the checksum is not checked against itself. */
function referenceCrc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Reads base62 text back into a number, to check the encoders against. */
function decodeBase62(text: string): bigint {
  let value = 0n;
  for (const character of text) value = value * 62n + BigInt(BASE62_ALPHABET.indexOf(character));
  return value;
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = value * 256n + BigInt(byte);
  return value;
}

describe('base62', () => {
  it('orders its alphabet as ASCII does, so fixed-width text sorts like the numbers', () => {
    assert.equal(BASE62_ALPHABET.length, 62);
    assert.equal([...BASE62_ALPHABET].sort().join(''), BASE62_ALPHABET);
  });

  it('encodes known integers at fixed widths', () => {
    assert.equal(encodeIntegerBase62(0, 1), '0');
    assert.equal(encodeIntegerBase62(0, 6), '000000');
    assert.equal(encodeIntegerBase62(61, 1), 'z');
    assert.equal(encodeIntegerBase62(62, 2), '10');
    assert.equal(encodeIntegerBase62(62, 6), '000010');
    assert.equal(encodeIntegerBase62(2 ** 32 - 1, 6), '4gfFC3');
  });

  it('treats the width as a minimum and never cuts digits', () => {
    assert.equal(encodeIntegerBase62(62, 1), '10');
  });

  it('encodes known byte strings big-endian at fixed widths', () => {
    assert.equal(encodeBytesBase62(new Uint8Array(), 3), '000');
    assert.equal(encodeBytesBase62(new Uint8Array([0, 0, 61]), 2), '0z');
    assert.equal(encodeBytesBase62(new Uint8Array([1, 0]), 1), '48');
    assert.equal(encodeBytesBase62(new Uint8Array(4).fill(255), 6), '4gfFC3');
    assert.equal(encodeBytesBase62(new Uint8Array(8).fill(255), 11), 'LygHa16AHYF');
    assert.equal(
      encodeBytesBase62(new Uint8Array(24).fill(255), RANDOM_LENGTH),
      '2lFA6LboL2xx0ldQH2K1TdSrwuqMMiME3',
    );
  });

  it('round-trips any bytes as a big-endian number at the requested width', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        const encoded = encodeBytesBase62(bytes, RANDOM_LENGTH);
        assert.equal(encoded.length, RANDOM_LENGTH);
        assert.equal(decodeBase62(encoded), bytesToBigInt(bytes));
      }),
    );
  });

  it('encodes integers as it encodes their big-endian bytes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (value) => {
        const bytes = new Uint8Array(4);
        new DataView(bytes.buffer).setUint32(0, value);
        assert.equal(encodeIntegerBase62(value, 6), encodeBytesBase62(bytes, 6));
        assert.equal(decodeBase62(encodeIntegerBase62(value, 6)), BigInt(value));
      }),
    );
  });
});

describe('isValidPrefix', () => {
  it('accepts letters, digits and inner underscores, 1 to 20 characters', () => {
    for (const prefix of ['kg', 'kg_root', 'my_app_v2', 'a', 'a1', 'a__b', 'a'.repeat(20)]) {
      assert.ok(isValidPrefix(prefix), prefix);
    }
    assert.equal(MAX_PREFIX_LENGTH, 20);
  });

  for (const prefix of invalidPrefixes) {
    it(`rejects ${JSON.stringify(prefix)}`, () => {
      assert.equal(isValidPrefix(prefix), false);
      assert.throws(() => generateKey(prefix), RangeError);
    });
  }
});

describe('generateKey and parseKey', () => {
  it('matches a known key computed outside keygate', () => {
    const random = '0123456789ABCDEFGHIJKLMNOPQRSTUVW';
    assert.equal(keyChecksum('kg', random), '0pvxyP');
    assert.equal(keyChecksum('my_app_v2', random), '0P1tb4');
    assert.deepEqual(parseKey(`my_app_v2_${random}0P1tb4`), {
      prefix: 'my_app_v2',
      random,
      checksum: '0P1tb4',
    });
  });

  it('computes the checksum as IEEE CRC-32 in six base62 characters', () => {
    assert.equal(referenceCrc32('123456789'), 0xcbf43926);
    fc.assert(
      fc.property(validPrefix, fc.stringMatching(/^[0-9A-Za-z]{33}$/), (prefix, random) => {
        const expected = encodeIntegerBase62(referenceCrc32(`${prefix}_${random}`), 6);
        assert.equal(keyChecksum(prefix, random), expected);
      }),
    );
  });

  it('generates keys that match the published pattern and parse back to their prefix', () => {
    fc.assert(
      fc.property(validPrefix, (prefix) => {
        const key = generateKey(prefix);
        assert.match(key, KEY_PATTERN);
        assert.equal(key.length, prefix.length + 1 + RANDOM_LENGTH + CHECKSUM_LENGTH);

        const parsed = parseKey(key);
        assert.ok(parsed);
        assert.equal(parsed.prefix, prefix);
        assert.equal(`${parsed.prefix}_${parsed.random}${parsed.checksum}`, key);
      }),
    );
  });

  it('generates a different key every time', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateKey('kg')));
    assert.equal(keys.size, 1000);
  });

  it('rejects every single-character change of a key', () => {
    fc.assert(
      fc.property(validPrefix, (prefix) => {
        const key = generateKey(prefix);
        for (let position = 0; position < key.length; position += 1) {
          for (const character of KEY_CHARACTERS) {
            if (character === key[position]) continue;
            const changed = key.slice(0, position) + character + key.slice(position + 1);
            assert.equal(parseKey(changed), undefined, `${key} changed to ${changed}`);
          }
        }
      }),
      { numRuns: 30 },
    );
  });

  it('rejects truncated and extended keys', () => {
    fc.assert(
      fc.property(validPrefix, fc.constantFrom(...KEY_CHARACTERS), (prefix, extra) => {
        const key = generateKey(prefix);
        for (const altered of [
          key.slice(0, -1),
          key.slice(1),
          key.slice(0, -CHECKSUM_LENGTH),
          key + extra,
          extra + key,
          `${key}\n`,
          ` ${key}`,
        ]) {
          assert.equal(parseKey(altered), undefined, altered);
        }
      }),
    );
  });

  it('rejects random text, even text shaped like a key', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(KEY_PATTERN)), (text) => {
        assert.equal(parseKey(text), undefined);
      }),
    );
  });

  it('rejects a key whose checksum is right but whose prefix is not valid', () => {
    const random = '0123456789ABCDEFGHIJKLMNOPQRSTUVW';
    for (const prefix of ['a_', 'a'.repeat(21)]) {
      assert.equal(parseKey(`${prefix}_${random}${keyChecksum(prefix, random)}`), undefined);
    }
  });

  it('rejects overlong input without reading it as a key', () => {
    assert.equal(parseKey(`${'a'.repeat(100_000)}_${'0'.repeat(39)}`), undefined);
  });

  it('accepts exactly what the published pattern, a valid prefix and the checksum accept', () => {
    const reference = (text: string) => {
      if (!KEY_PATTERN.test(text)) return false;
      const split = text.length - RANDOM_LENGTH - CHECKSUM_LENGTH - 1;
      const [prefix, random] = [text.slice(0, split), text.slice(split + 1, -CHECKSUM_LENGTH)];
      const checksum = text.slice(-CHECKSUM_LENGTH);
      const expected = encodeIntegerBase62(referenceCrc32(`${prefix}_${random}`), CHECKSUM_LENGTH);
      return isValidPrefix(prefix) && checksum === expected;
    };
    const mutated = fc
      .tuple(validPrefix, fc.nat(), fc.constantFrom(...KEY_CHARACTERS, 'é', '-', ' '))
      .map(([prefix, at, character]) => {
        const key = generateKey(prefix);
        const place = at % (key.length + 1);
        return `${key.slice(0, place)}${character}${key.slice(place + 1)}`;
      });
    const texts = fc.oneof(validPrefix.map(generateKey), mutated, fc.stringMatching(KEY_PATTERN));

    fc.assert(
      fc.property(texts, (text) => {
        assert.equal(isWellFormedKey(text), reference(text), text);
        assert.equal(parseKey(text) !== undefined, reference(text), text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('keyStart', () => {
  it('is the prefix, "_" and the first four random characters', () => {
    fc.assert(
      fc.property(validPrefix, (prefix) => {
        const key = generateKey(prefix);
        const parsed = parseKey(key);
        assert.ok(parsed);

        const start = keyStart(parsed);
        assert.equal(start, `${prefix}_${parsed.random.slice(0, 4)}`);
        assert.equal(start.length, prefix.length + 5);
        assert.ok(key.startsWith(start));
      }),
    );
  });
});

describe('hashKey', () => {
  it('is HMAC-SHA256 in hex', () => {
    const pepper = createPepper('key');
    assert.equal(
      hashKey(pepper, 'The quick brown fox jumps over the lazy dog'),
      'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('is deterministic, 64 hex characters, and differs per pepper and per key', () => {
    const first = createPepper('first pepper');
    const second = createPepper('second pepper', 2);
    assert.equal(second.version, 2);
    assert.equal(first.version, 1);

    fc.assert(
      fc.property(validPrefix, validPrefix, (prefixA, prefixB) => {
        const key = generateKey(prefixA);
        const other = generateKey(prefixB);
        const hash = hashKey(first, key);

        assert.match(hash, /^[0-9a-f]{64}$/);
        assert.equal(hashKey(first, key), hash);
        assert.equal(hashKey(createPepper('first pepper'), key), hash);
        assert.notEqual(hashKey(second, key), hash);
        assert.notEqual(hashKey(first, other), hash);
      }),
    );
  });
});

describe('secretsEqual', () => {
  it('is true for equal text and false for any difference', () => {
    assert.equal(secretsEqual('', ''), true);
    assert.equal(secretsEqual('kg_abc', 'kg_abc'), true);
    assert.equal(secretsEqual('kg_abc', 'kg_abd'), false);
    assert.equal(secretsEqual('kg_abc', 'kg_ab'), false);
    assert.equal(secretsEqual('kg_abc', 'kg_abcd'), false);
    assert.equal(secretsEqual('é', 'e\u0301'), false);
  });

  it('agrees with === on any pair of strings', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        assert.equal(secretsEqual(a, b), a === b);
        assert.equal(secretsEqual(a, a), true);
      }),
    );
  });
});

describe('newId', () => {
  const kinds: IdKind[] = ['ws', 'root', 'api', 'key', 'evt', 'idt', 'rlo', 'bal'];
  // Up to the last millisecond of the year 9999, well inside nine base62 digits.
  const time = fc.integer({ min: 0, max: 253_402_300_799_999 });

  it('is the kind, "_", nine time characters and eleven random ones', () => {
    for (const kind of kinds) {
      assert.match(newId(kind), new RegExp(`^${kind}_[0-9A-Za-z]{20}$`));
    }
    assert.ok(newId('key', 1_700_000_000_000).startsWith('key_00Tvcokgi'));
  });

  it('sorts ids of one kind made in one millisecond in the order they were made', () => {
    const ids = Array.from({ length: 50 }, () => newId('evt', 1_800_000_000_000));
    assert.deepEqual([...ids].sort(), ids);
  });

  it('differs between ids made in the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('key', 1_700_000_000_000)));
    assert.equal(ids.size, 1000);
  });

  it('sorts as text in the order the ids were made', () => {
    fc.assert(
      fc.property(fc.constantFrom(...kinds), time, time, (kind, a, b) => {
        fc.pre(a !== b);
        const [earlier, later] = a < b ? [a, b] : [b, a];
        assert.ok(newId(kind, earlier) < newId(kind, later));
      }),
    );
  });
});

describe('newRequestId', () => {
  it('is shaped like other ids and never repeats within a process', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => newRequestId(1_700_000_000_000 + (i % 3)));

    for (const id of ids) assert.match(id, /^req_[0-9A-Za-z]{20}$/);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids[0]?.startsWith(`req_${encodeIntegerBase62(1_700_000_000_000, 9)}`));
  });
});
