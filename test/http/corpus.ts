/**
 * A corpus of hostile requests for every route of the HTTP API that takes a body, a query
 * or a path parameter, with what a correct server answers to each.
 */
import type { TestApp } from '../support/app.ts';

/** The records the corpus aims at, made before it runs. */
export interface Fixture {
  apiId: string;
  /** A key the PATCH cases change. */
  patchKeyId: string;
  /** A key the roll cases roll. */
  rollKeyId: string;
  /** A key the DELETE cases aim at; no case may revoke it. */
  deleteKeyId: string;
  /** The secret of a key holding the rate limit `burst`. */
  verifyKey: string;
  /** An identity the PATCH and credits cases change. */
  identityExternalId: string;
}

/** Creates the records the corpus aims at, with the bootstrap root key. */
export async function createFixture(t: TestApp): Promise<Fixture> {
  const created = async (url: string, body: unknown) => {
    const answer = await t.request({ method: 'POST', url, body });
    if (answer.status !== 201) throw new Error(`fixture ${url} answered ${answer.status}`);
    return answer.body as { id: string; key: string; externalId: string };
  };

  const api = await created('/v1/apis', { name: 'corpus' });
  const keys = `/v1/apis/${api.id}/keys`;
  const burst = { name: 'burst', limit: 1_000_000, duration: 60_000 };
  const verified = await created(keys, { name: 'verified', ratelimits: [burst] });
  return {
    apiId: api.id,
    patchKeyId: (await created(keys, { name: 'patched' })).id,
    rollKeyId: (await created(keys, { name: 'rolled' })).id,
    deleteKeyId: (await created(keys, { name: 'kept' })).id,
    verifyKey: verified.key,
    identityExternalId: (await created('/v1/identities', { externalId: 'corpus' })).externalId,
  };
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request, as raw as a client on the wire can make it. */
export interface Probe {
  method: Method;
  url: string;
  /** The body text; `undefined` sends none. */
  payload?: string;
  /** Defaults to `application/json` whenever there is a payload; `null` sends none. */
  contentType?: string | null;
}

/**
 * What a correct server answers:
 * - `refused`: a 4xx problem (one of `status`); a 400 names `field` in its `errors`.
 * - `accepted`: a 2xx whose record reads back `stored` (default: the value sent) at `field`,
 *   and whose body holds `answer`.
 * - `either`: a 400 naming `field`, or a 2xx that reads back as `accepted` does; for inputs
 *   the design leaves open, such as lone surrogates, where only silent change is wrong.
 */
export type Expectation =
  | { kind: 'refused'; status: readonly number[]; field?: string | undefined }
  | {
      kind: 'accepted' | 'either';
      field?: string | undefined;
      stored?: unknown;
      answer?: Record<string, unknown> | undefined;
    };

export interface Case {
  route: string;
  name: string;
  probe(fixture: Fixture): Probe;
  expect: Expectation;
  /** The value sent at `expect.field`, for the read-back. */
  sent?: unknown;
  /** Reads back the record a 2xx created or changed; `undefined` when nothing is stored. */
  readBack?: ReadBack | undefined;
}

/** The stored record behind a 2xx answer, as the API (or the store) shows it. */
export type ReadBack = (
  t: TestApp,
  fixture: Fixture,
  answer: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

const BAD_REQUEST = [400] as const;

// ---------------------------------------------------------------------------------------
// Values for one field

/** One value for one field, raw JSON text when JavaScript cannot say it (`NaN`, `1e400`). */
interface FieldValue {
  name: string;
  value?: unknown;
  raw?: string;
  outcome: 'refused' | 'accepted' | 'either';
  /** What a 2xx must read back, when not the value sent. */
  stored?: unknown;
  answer?: Record<string, unknown>;
  /** Refused for the body as a whole (malformed JSON), not for this field. */
  wholeBody?: boolean;
}

const TEN_THOUSAND = 'x'.repeat(10_000);
const SAFE = Number.MAX_SAFE_INTEGER;

/** `n` values made from their index. */
function times<T>(n: number, make: (index: number) => T): T[] {
  return Array.from({ length: n }, (_, index) => make(index));
}

function refused(name: string, value: unknown): FieldValue {
  return { name, value, outcome: 'refused' };
}

function accepted(name: string, value: unknown, stored?: unknown): FieldValue {
  return { name, value, outcome: 'accepted', ...(stored === undefined ? {} : { stored }) };
}

type JsonType = 'string' | 'integer' | 'boolean' | 'array' | 'object';

const WRONG_TYPES: Record<JsonType, [string, unknown][]> = {
  string: [
    ['a number', 123],
    ['a boolean', true],
    ['an object', { a: 1 }],
    ['an array', ['a']],
  ],
  integer: [
    ['a string', '5'],
    ['a boolean', true],
    ['an object', {}],
    ['an array', [1]],
    ['the string "NaN"', 'NaN'],
  ],
  boolean: [
    ['a string', 'true'],
    ['a number', 1],
    ['an object', {}],
    ['an array', [true]],
  ],
  array: [
    ['an object', { 0: 'a' }],
    ['a string', 'a'],
    ['a number', 1],
    ['a boolean', true],
  ],
  object: [
    ['an array', []],
    ['a string', 'a'],
    ['a number', 1],
    ['a boolean', false],
  ],
};

/** What `null` clears a field to, for fields that take `null` (those of PATCH). */
type Cleared = { to: unknown } | undefined;

/** Values of the wrong JSON type; `null` is refused unless the field can be cleared. */
function wrongTypes(type: JsonType, cleared?: Cleared): FieldValue[] {
  const values = WRONG_TYPES[type].map(([name, value]) => refused(name, value));
  values.push(cleared ? accepted('null (clears it)', null, cleared.to) : refused('null', null));
  return values;
}

/** Free text such as a name: printable, any script, `max` characters at most. */
function textValues(max: number): FieldValue[] {
  return [
    refused('an empty string', ''),
    accepted(`${max} characters`, 'n'.repeat(max)),
    refused(`${max + 1} characters`, 'n'.repeat(max + 1)),
    refused('10,000 characters', TEN_THOUSAND),
    refused('a NUL byte', 'a\u0000b'),
    refused('only a NUL byte', '\u0000'),
    refused('a newline', 'a\nb'),
    refused('a tab', 'a\tb'),
    refused('an ANSI escape sequence', '\u001b[31mred'),
    refused('DEL', 'a\u007f'),
    { name: 'a C1 control character', value: 'a\u0085b', outcome: 'either' },
    accepted('emoji and a ZWJ sequence', 'rocket 🚀 👩‍👩‍👧 🇺🇦'),
    accepted('right-to-left text', 'مرحبا שלום'),
    accepted('a right-to-left override', 'abc\u202edcba'),
    accepted('combining characters', 'Z̴̡̛a̸͎̓l̵g̶o̷ é'),
    accepted('a zero-width joiner and a BOM', '\u200d\ufeffx'),
    { name: 'a lone high surrogate', raw: '"a\\ud800b"', outcome: 'either' },
    { name: 'a lone low surrogate', raw: '"\\udfff"', outcome: 'either' },
    { name: 'surrogates in the wrong order', raw: '"\\udc00\\ud800"', outcome: 'either' },
    { name: `${max} emoji`, value: '🚀'.repeat(max), outcome: 'either' },
  ];
}

/** A short text with no stored read-back worth checking beyond length and controls. */
function shortTextValues(): FieldValue[] {
  return [
    refused('an empty string', ''),
    refused('10,000 characters', TEN_THOUSAND),
    refused('a NUL byte', 'a\u0000b'),
    refused('an ANSI escape sequence', '\u001b[31mred'),
    accepted('emoji', 'limit 🚀'),
    { name: 'a lone high surrogate', raw: '"a\\ud800b"', outcome: 'either' },
  ];
}

/** Integers from `min` to `max`, both inclusive. */
function integerValues(min: number, max: number): FieldValue[] {
  return [
    ...wrongTypes('integer'),
    accepted(`${min}`, min),
    accepted(`${max}`, max),
    refused(`${min - 1}`, min - 1),
    refused(`${max + 1}`, max + 1),
    refused('a fraction', 1.5),
    refused('1e308', 1e308),
    refused('2^53', 2 ** 53),
    { name: '1e400 (infinite as a double)', raw: '1e400', outcome: 'refused' },
    { name: 'a literal NaN', raw: 'NaN', outcome: 'refused', wholeBody: true },
    { name: 'a literal Infinity', raw: 'Infinity', outcome: 'refused', wholeBody: true },
    { name: 'a hexadecimal literal', raw: '0x10', outcome: 'refused', wholeBody: true },
  ];
}

function booleanValues(): FieldValue[] {
  return [...wrongTypes('boolean'), accepted('true', true), accepted('false', false)];
}

function enumValues(valid: string[]): FieldValue[] {
  return [
    ...wrongTypes('string'),
    ...valid.map((value) => accepted(value, value)),
    refused('an unknown value', 'leaky-bucket'),
    refused('the right value in upper case', valid[0]?.toUpperCase()),
    refused('an empty string', ''),
    refused('a NUL byte', `${valid[0]}\u0000`),
  ];
}

function permissionListValues(cleared?: Cleared): FieldValue[] {
  const many = (n: number) => times(n, (i) => `api.perm_${i}.read_key`);
  return [
    ...wrongTypes('array', cleared),
    accepted('no permissions', []),
    accepted('names with every allowed sign', ['api.*.verify_key', 'a:b-c_d.*', '*']),
    accepted('1,000 permissions', many(1000)),
    refused('1,001 permissions', many(1001)),
    refused('a number among them', ['a', 1]),
    refused('null among them', [null]),
    refused('an object among them', [{}]),
    refused('an empty name', ['']),
    accepted('a name of 256 characters', ['p'.repeat(256)]),
    refused('a name of 257 characters', ['p'.repeat(257)]),
    refused('a name of 10,000 characters', [TEN_THOUSAND]),
    refused('a NUL byte in a name', ['api\u0000.read']),
    refused('an emoji name', ['🚀']),
    refused('a space in a name', ['read key']),
    refused('a name twice', ['read', 'read']),
  ];
}

function metaValues(cleared?: Cleared): FieldValue[] {
  const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  return [
    ...wrongTypes('object', cleared),
    accepted('an empty object', {}),
    accepted('unicode keys and values', { '🚀': 'שלום', é: ['Z̴̡̛a'] }),
    accepted('huge and tiny numbers', { big: 1e308, small: 5e-324, negative: -1e308 }),
    accepted('a string of 10,000 characters', { text: TEN_THOUSAND }),
    accepted('exactly 16 KiB as JSON', { a: 'm'.repeat(16 * 1024 - 8) }),
    refused('one byte over 16 KiB', { a: 'm'.repeat(16 * 1024 - 7) }),
    refused('16 KiB of multi-byte text', { a: 'é'.repeat(9000) }),
    { name: 'NUL bytes in keys and values', value: { 'a\u0000': 'b\u0000' }, outcome: 'either' },
    { name: 'control characters', value: { a: '\u001b[2J\u0007' }, outcome: 'either' },
    { name: 'a lone surrogate', raw: '{"a":"\\ud800"}', outcome: 'either' },
    accepted('100 levels of nesting', JSON.parse(nestedObjects(100))),
    {
      name: '8,000 levels of arrays (under 16 KiB)',
      raw: `{"a":${nestedArrays(8000)}}`,
      outcome: 'either',
    },
    {
      name: '20,000 levels of arrays (over 16 KiB)',
      raw: `{"a":${nestedArrays(20_000)}}`,
      outcome: 'refused',
    },
    { name: '10,000 levels of objects', raw: nestedObjects(10_000), outcome: 'refused' },
  ];
}

function timestampValues(cleared?: Cleared): FieldValue[] {
  return [
    ...wrongTypes('string', cleared),
    accepted('a future time', '2030-01-01T00:00:00.000Z'),
    accepted('the last second of year 9999', '9999-12-31T23:59:59Z', '9999-12-31T23:59:59.000Z'),
    accepted('an offset of +14:00', '2030-06-01T12:00:00+14:00', '2030-05-31T22:00:00.000Z'),
    accepted('nanoseconds', '2030-01-01T00:00:00.123456789Z', '2030-01-01T00:00:00.123Z'),
    refused('an empty string', ''),
    refused('words', 'tomorrow'),
    refused('the 30th of February', '2030-02-30T00:00:00Z'),
    refused('a date without a time', '2030-01-01'),
    refused('a time without a zone', '2030-01-01T00:00:00'),
    refused('a past time', '2000-01-01T00:00:00Z'),
    refused('a leap second in the past', '1990-12-31T23:59:60Z'),
    {
      name: 'a leap second in the future',
      value: '2030-12-31T23:59:60Z',
      outcome: 'either',
      stored: '2031-01-01T00:00:00.000Z',
    },
    refused('a six-digit year', '+275760-09-13T00:00:00Z'),
    refused('10,000 characters', TEN_THOUSAND),
    refused('a trailing NUL byte', '2030-01-01T00:00:00Z\u0000'),
  ];
}

function prefixValues(): FieldValue[] {
  return [
    ...wrongTypes('string'),
    accepted('a valid prefix', 'ok_2'),
    accepted('20 characters', 'p'.repeat(20)),
    refused('21 characters', 'p'.repeat(21)),
    refused('an empty string', ''),
    refused('a trailing _', 'ab_'),
    refused('a leading _', '_ab'),
    refused('a leading digit', '1ab'),
    refused('upper case', 'Ab'),
    refused('a hyphen', 'a-b'),
    refused('10,000 characters', TEN_THOUSAND),
    refused('a NUL byte', 'a\u0000'),
    refused('cyrillic', 'ключ'),
  ];
}

function creditsValues(cleared?: Cleared): FieldValue[] {
  return [
    ...wrongTypes('object', cleared),
    accepted('a balance with a monthly refill', {
      remaining: 10,
      refill: { interval: 'monthly', amount: 10, day: 31 },
    }),
    refused('no remaining', {}),
    refused('an unknown field', { remaining: 1, bogus: true }),
    refused('an unknown field in refill', {
      remaining: 1,
      refill: { interval: 'daily', amount: 1, x: 1 },
    }),
    refused('a refill that is an array', { remaining: 1, refill: [] }),
    refused('a refill without an interval', { remaining: 1, refill: { amount: 1 } }),
  ];
}

const A_LIMIT = { name: 'requests', limit: 10, duration: 1000 };

function rateLimitListValues(cleared?: Cleared): FieldValue[] {
  const many = (n: number) => times(n, (i) => ({ ...A_LIMIT, name: `l${i}` }));
  return [
    ...wrongTypes('array', cleared),
    accepted('no limits', []),
    accepted('every option', [
      { ...A_LIMIT, algorithm: 'token-bucket', burst: 20, autoApply: false, shadow: true },
    ]),
    accepted('50 limits', many(50)),
    refused('51 limits', many(51)),
    refused('a name twice', [A_LIMIT, A_LIMIT]),
    refused('a limit that is a string', ['requests']),
    refused('a limit that is an array', [[A_LIMIT]]),
    refused('a limit without a duration', [{ name: 'a', limit: 1 }]),
    refused('an unknown field in a limit', [{ ...A_LIMIT, window: 1000 }]),
  ];
}

// ---------------------------------------------------------------------------------------
// Routes

/** One field of a body and the values to try in it. */
interface FieldSpec {
  field: string;
  values: FieldValue[];
  /** The valid body the value is placed into; defaults to the route's. */
  base?: (fixture: Fixture) => Record<string, unknown>;
  /** The field is an instruction, not kept in any record (`gracePeriodMs`). */
  notStored?: boolean;
}

/** A route that takes a JSON body. */
interface BodyRoute {
  route: string;
  method: 'POST' | 'PUT' | 'PATCH';
  url(fixture: Fixture): string;
  /** A valid body. */
  base(fixture: Fixture): Record<string, unknown>;
  /** No body at all is valid too. */
  bodyOptional?: boolean;
  fields: FieldSpec[];
  readBack?: ReadBack;
}

/** Reads a key back, with the prefix its `start` shows. */
function readKey(id: (fixture: Fixture, answer: Record<string, unknown>) => unknown): ReadBack {
  return async (t, fixture, answer) => {
    const read = await t.request({ method: 'GET', url: `/v1/keys/${id(fixture, answer)}` });
    const key = read.body as { start: string };
    return { ...read.body, prefix: key.start.slice(0, key.start.lastIndexOf('_')) };
  };
}

/** Root keys cannot be read one by one, so the list is searched. */
const readRootKey: ReadBack = async (t, _fixture, answer) => {
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${cursor}`;
    const page = await t.request({ method: 'GET', url: `/v1/root-keys?limit=100${query}` });
    const found = page.body.items.find((item: { id: string }) => item.id === answer.id);
    if (found) return found;
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  throw new Error(`root key ${answer.id} is not listed`);
};

/** There is no route that reads a workspace, so its name is read from the store. */
const readWorkspace: ReadBack = async (t, _fixture, answer) => {
  const workspace = await t.keygate.store.getWorkspace(String(answer.id));
  if (!workspace) throw new Error(`workspace ${answer.id} was not stored`);
  return { ...workspace };
};

/** The settings of a key; PATCH takes `null` for most of them, to clear them. */
function keySettingFields(patch: boolean): FieldSpec[] {
  const cleared = (to: unknown): Cleared => (patch ? { to } : undefined);
  const credits = () => ({ credits: { remaining: 5, refill: { interval: 'daily', amount: 5 } } });
  const limits = () => ({ ratelimits: [{ ...A_LIMIT, algorithm: 'token-bucket', burst: 5 }] });
  return [
    { field: 'name', values: [...wrongTypes('string', cleared(null)), ...textValues(200)] },
    { field: 'externalId', values: [...wrongTypes('string', cleared(null)), ...textValues(256)] },
    { field: 'meta', values: metaValues(cleared(null)) },
    { field: 'permissions', values: permissionListValues(cleared([])) },
    { field: 'enabled', values: booleanValues() },
    { field: 'expiresAt', values: timestampValues(cleared(null)) },
    { field: 'credits', values: creditsValues(cleared(null)) },
    { field: 'credits.remaining', values: integerValues(0, SAFE), base: credits },
    { field: 'credits.refill', values: wrongTypes('object'), base: credits },
    {
      field: 'credits.refill.interval',
      values: enumValues(['daily', 'monthly', 'never']),
      base: credits,
    },
    { field: 'credits.refill.amount', values: integerValues(0, SAFE), base: credits },
    { field: 'credits.refill.day', values: integerValues(1, 31), base: credits },
    { field: 'ratelimits', values: rateLimitListValues(cleared([])) },
    { field: 'ratelimits[0]', values: wrongTypes('object'), base: limits },
    {
      field: 'ratelimits[0].name',
      values: [...wrongTypes('string'), ...shortTextValues()],
      base: limits,
    },
    { field: 'ratelimits[0].limit', values: integerValues(1, SAFE), base: limits },
    {
      field: 'ratelimits[0].duration',
      values: integerValues(1, 31 * 24 * 3600 * 1000),
      base: limits,
    },
    {
      field: 'ratelimits[0].algorithm',
      values: enumValues(['sliding-window', 'token-bucket']),
      base: limits,
    },
    // A bucket counts tokens × duration (1 s here) exactly, so its burst stops at 2^53 / 1000.
    {
      field: 'ratelimits[0].burst',
      values: integerValues(1, Math.floor(SAFE / A_LIMIT.duration)),
      base: limits,
    },
    { field: 'ratelimits[0].autoApply', values: booleanValues(), base: limits },
    { field: 'ratelimits[0].shadow', values: booleanValues(), base: limits },
  ];
}

/** What an identity holds besides its external id: meta, rate limits and credits. */
function identitySettingFields(patch: boolean): FieldSpec[] {
  const specs = keySettingFields(patch).filter((spec) =>
    /^(meta|credits|ratelimits)/.test(spec.field),
  );
  if (patch) return specs;

  // A new identity needs an external id besides the setting under test.
  return specs.map((spec) => {
    const base = spec.base;
    return base
      ? { ...spec, base: (f: Fixture) => ({ externalId: newExternalId(), ...base(f) }) }
      : spec;
  });
}

/** Identities are searched in the list: an external id may be too long for a path. */
const readIdentity: ReadBack = async (t, _fixture, answer) => {
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${cursor}`;
    const page = await t.request({ method: 'GET', url: `/v1/identities?limit=100${query}` });
    const found = page.body.items.find((item: { id: string }) => item.id === answer.id);
    if (found) return found;
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  throw new Error(`identity ${answer.id} is not listed`);
};

/** Every new identity of the corpus needs an external id of its own. */
let identityCount = 0;
const newExternalId = () => {
  identityCount += 1;
  return `corpus_new_${identityCount}`;
};

function creditsChangeFields(): FieldSpec[] {
  return [
    { field: 'op', values: enumValues(['set', 'increment', 'decrement']), notStored: true },
    { field: 'value', values: integerValues(0, SAFE), notStored: true },
  ];
}

const DAYS_31 = 31 * 24 * 3600 * 1000;
const BILLION = 1_000_000_000;

function limitCallFields(): FieldSpec[] {
  return [
    {
      field: 'identifier',
      values: [...wrongTypes('string'), ...textValues(256)],
      notStored: true,
    },
    { field: 'limit', values: integerValues(1, BILLION), notStored: true },
    { field: 'duration', values: integerValues(1, DAYS_31), notStored: true },
    { field: 'cost', values: integerValues(0, BILLION), notStored: true },
    { field: 'legacyHeaders', values: booleanValues(), notStored: true },
  ];
}

const MALFORMED = { valid: false, code: 'MALFORMED' };
const VALID = { valid: true, code: 'VALID' };

function verifyFields(): FieldSpec[] {
  const named = (fixture: Fixture) => ({ key: fixture.verifyKey, ratelimits: [{ name: 'burst' }] });
  const answered = (value: FieldValue, answer: Record<string, unknown>) =>
    value.outcome === 'refused' ? value : { ...value, answer };
  return [
    {
      field: 'key',
      values: [
        ...wrongTypes('string'),
        refused('an empty string', ''),
        { ...accepted('512 characters', 'k'.repeat(512)), answer: MALFORMED },
        refused('513 characters', 'k'.repeat(513)),
        refused('10,000 characters', TEN_THOUSAND),
        { ...accepted('a NUL byte', 'kg_\u0000'), answer: MALFORMED },
        { ...accepted('emoji', 'kg_🚀🚀🚀'), answer: MALFORMED },
        { name: 'a lone surrogate', raw: '"kg_\\ud800"', outcome: 'accepted', answer: MALFORMED },
      ],
    },
    {
      field: 'apiId',
      values: [
        ...wrongTypes('string'),
        refused('an empty string', ''),
        refused('a NUL byte', 'api_\u0000'),
        refused('10,000 characters', TEN_THOUSAND),
        refused('unicode', 'api_ключ'),
        refused('a path', '../../etc'),
        {
          ...accepted('an unknown API', 'api_0000000000000000000000'),
          answer: { valid: false, code: 'NOT_FOUND' },
        },
      ],
    },
    {
      field: 'permissions',
      values: [
        ...wrongTypes('string'),
        refused('an empty string', ''),
        refused('1,001 characters', 'p'.repeat(1001)),
        refused('10,000 characters', TEN_THOUSAND),
        refused('a NUL byte', 'read\u0000'),
        refused('emoji', '🚀'),
        refused('a dangling operator', 'read AND'),
        refused('17 levels of nesting', `${'('.repeat(17)}read${')'.repeat(17)}`),
        refused('400 levels of nesting', `${'('.repeat(400)}read${')'.repeat(400)}`),
        {
          ...accepted('16 levels of nesting', `${'('.repeat(16)}read${')'.repeat(16)}`),
          answer: { valid: false, code: 'INSUFFICIENT_PERMISSIONS' },
        },
      ],
    },
    { field: 'cost', values: integerValues(0, SAFE).map((v) => answered(v, VALID)) },
    {
      field: 'ratelimits',
      values: [
        ...wrongTypes('array'),
        { ...accepted('a limit the key has', [{ name: 'burst' }]), answer: VALID },
        refused('a limit the key does not have', [{ name: 'nope' }]),
        refused('a limit whose name has a NUL byte', [{ name: 'burst\u0000' }]),
        refused(
          '51 limits',
          times(51, () => ({ name: 'burst' })),
        ),
      ],
    },
    { field: 'ratelimits[0]', values: wrongTypes('object'), base: named },
    {
      field: 'ratelimits[0].name',
      values: [
        ...wrongTypes('string'),
        refused('an empty string', ''),
        refused('10,000 characters', TEN_THOUSAND),
      ],
      base: named,
    },
    {
      field: 'ratelimits[0].cost',
      // A cost past the limit is a well-formed request that the limit denies.
      values: integerValues(0, SAFE).map((v) =>
        answered(v, v.value === SAFE ? { valid: false, code: 'RATE_LIMITED' } : VALID),
      ),
      base: named,
    },
    {
      field: 'tags',
      values: [
        ...wrongTypes('array'),
        {
          ...accepted(
            '20 tags',
            times(20, (i) => `t${i}`),
          ),
          answer: VALID,
        },
        refused(
          '21 tags',
          times(21, (i) => `t${i}`),
        ),
        refused('a number among them', [1]),
        refused('a tag of 129 characters', ['t'.repeat(129)]),
        refused('a tag of 10,000 characters', [TEN_THOUSAND]),
        refused('a NUL byte in a tag', ['a\u0000']),
        refused('an empty tag', ['']),
        { ...accepted('unicode tags', ['🚀', 'שלום', 'é']), answer: VALID },
      ],
    },
  ];
}

export const BODY_ROUTES: BodyRoute[] = [
  {
    route: 'POST /v1/workspaces',
    method: 'POST',
    url: () => '/v1/workspaces',
    base: () => ({ name: 'tenant' }),
    fields: [{ field: 'name', values: [...wrongTypes('string'), ...textValues(200)] }],
    readBack: readWorkspace,
  },
  {
    route: 'POST /v1/root-keys',
    method: 'POST',
    url: () => '/v1/root-keys',
    base: () => ({ name: 'robot', permissions: [] }),
    fields: [
      { field: 'name', values: [...wrongTypes('string'), ...textValues(200)] },
      { field: 'permissions', values: permissionListValues() },
    ],
    readBack: readRootKey,
  },
  {
    route: 'POST /v1/apis',
    method: 'POST',
    url: () => '/v1/apis',
    base: () => ({ name: 'payments' }),
    fields: [
      { field: 'name', values: [...wrongTypes('string'), ...textValues(200)] },
      { field: 'prefix', values: prefixValues() },
    ],
    readBack: async (t, _fixture, answer) =>
      (await t.request({ method: 'GET', url: `/v1/apis/${answer.id}` })).body,
  },
  {
    route: 'POST /v1/apis/:apiId/keys',
    method: 'POST',
    url: (f) => `/v1/apis/${f.apiId}/keys`,
    base: () => ({}),
    fields: [...keySettingFields(false), { field: 'prefix', values: prefixValues() }],
    readBack: readKey((_f, answer) => answer.id),
  },
  {
    route: 'PATCH /v1/keys/:keyId',
    method: 'PATCH',
    url: (f) => `/v1/keys/${f.patchKeyId}`,
    base: () => ({}),
    fields: keySettingFields(true),
    readBack: readKey((f) => f.patchKeyId),
  },
  {
    route: 'POST /v1/keys/:keyId/roll',
    method: 'POST',
    url: (f) => `/v1/keys/${f.rollKeyId}/roll`,
    base: () => ({}),
    bodyOptional: true,
    fields: [
      { field: 'gracePeriodMs', values: integerValues(0, 30 * 24 * 3600 * 1000), notStored: true },
    ],
    readBack: readKey((_f, answer) => answer.id),
  },
  {
    route: 'POST /v1/keys/verify',
    method: 'POST',
    url: () => '/v1/keys/verify',
    base: (f) => ({ key: f.verifyKey }),
    fields: verifyFields(),
  },
  {
    route: 'POST /v1/keys/:keyId/credits',
    method: 'POST',
    url: (f) => `/v1/keys/${f.patchKeyId}/credits`,
    base: () => ({ op: 'set', value: 5 }),
    fields: creditsChangeFields(),
  },
  {
    route: 'POST /v1/identities',
    method: 'POST',
    url: () => '/v1/identities',
    base: () => ({ externalId: newExternalId() }),
    fields: [
      { field: 'externalId', values: [...wrongTypes('string'), ...textValues(256)] },
      ...identitySettingFields(false),
    ],
    readBack: readIdentity,
  },
  {
    route: 'PATCH /v1/identities/:externalId',
    method: 'PATCH',
    url: (f) => `/v1/identities/${f.identityExternalId}`,
    base: () => ({}),
    fields: identitySettingFields(true),
    readBack: readIdentity,
  },
  {
    route: 'POST /v1/identities/:externalId/credits',
    method: 'POST',
    url: (f) => `/v1/identities/${f.identityExternalId}/credits`,
    base: () => ({ op: 'set', value: 5 }),
    fields: creditsChangeFields(),
  },
  {
    route: 'POST /v1/ratelimits/:namespace/limit',
    method: 'POST',
    url: () => '/v1/ratelimits/corpus/limit',
    base: () => ({ identifier: 'caller', limit: 10, duration: 1000 }),
    fields: limitCallFields(),
  },
  {
    route: 'PUT /v1/ratelimits/:namespace/overrides/:identifier',
    method: 'PUT',
    url: () => '/v1/ratelimits/corpus/overrides/caller',
    base: () => ({ limit: 5, duration: 1000 }),
    fields: [
      { field: 'limit', values: [...integerValues(0, BILLION)] },
      { field: 'duration', values: integerValues(1, DAYS_31) },
    ],
    readBack: async (t) =>
      (await t.request({ method: 'GET', url: '/v1/ratelimits/corpus/overrides/caller' })).body,
  },
];

// ---------------------------------------------------------------------------------------
// Building the cases

type PathSegment = string | number;

function parsePath(field: string): PathSegment[] {
  return field
    .split(/\.|(?=\[)/)
    .map((part) => (part.startsWith('[') ? Number(part.slice(1, -1)) : part));
}

/** The value at `field` (`credits.refill.day`, `ratelimits[0].name`) of a record. */
export function valueAt(record: unknown, field: string): unknown {
  let value = record;
  for (const segment of parsePath(field)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PathSegment, unknown>)[segment];
  }
  return value;
}

const RAW_MARK = '\u0001raw\u0001';

/** The body text of `base` with `value` (or the raw JSON `raw`) at `field`. */
function bodyWith(base: Record<string, unknown>, field: string, value: FieldValue): string {
  const copy = structuredClone(base);
  const path = parsePath(field);
  let parent: Record<PathSegment, unknown> = copy;
  for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<PathSegment, unknown>;
  const last = path[path.length - 1] as PathSegment;
  parent[last] = value.raw === undefined ? value.value : RAW_MARK;

  const text = JSON.stringify(copy);
  return value.raw === undefined ? text : text.replace(JSON.stringify(RAW_MARK), value.raw);
}

function sentValue(value: FieldValue): unknown {
  if (value.raw === undefined) return value.value;
  try {
    return JSON.parse(value.raw);
  } catch {
    return undefined;
  }
}

function fieldCase(route: BodyRoute, spec: FieldSpec, value: FieldValue): Case {
  const base = spec.base ?? route.base;
  const expect: Expectation =
    value.outcome === 'refused'
      ? { kind: 'refused', status: BAD_REQUEST, field: value.wholeBody ? undefined : spec.field }
      : { kind: value.outcome, field: spec.field, stored: value.stored, answer: value.answer };
  return {
    route: route.route,
    name: `${spec.field}: ${value.name}`,
    probe: (f) => ({
      method: route.method,
      url: route.url(f),
      payload: bodyWith(base(f), spec.field, value),
    }),
    expect,
    sent: sentValue(value),
    readBack: spec.notStored ? undefined : route.readBack,
  };
}

/** A body that also sets `__proto__`, which a careless parser turns into a prototype. */
function withProto(body: string): string {
  const fields = body.slice(1, -1);
  return `{"__proto__":{"isAdmin":true}${fields === '' ? '' : `,${fields}`}}`;
}

/** Cases about the body as a whole, for any route that takes one. */
function bodyCases(route: BodyRoute): Case[] {
  const valid = (f: Fixture) => JSON.stringify(route.base(f));
  const mib = JSON.stringify({ padding: 'x'.repeat(1024 * 1024) });
  const refusedAs = (status: number[], field?: string): Expectation => ({
    kind: 'refused',
    status,
    field,
  });
  const optional = route.bodyOptional === true;

  /** Name, body text (`undefined`: none), expectation and content type (`null`: none). */
  const table: [string, (f: Fixture) => string | undefined, Expectation, (string | null)?][] = [
    ['malformed JSON', () => '{"name": ', refusedAs([400])],
    ['single quotes', () => "{'name': 'x'}", refusedAs([400])],
    ['trailing garbage after the JSON', (f) => `${valid(f)} trailing`, refusedAs([400])],
    [
      'an empty body with a JSON content type',
      () => '',
      optional ? { kind: 'either' } : refusedAs([400]),
    ],
    [
      'no body and no content type',
      () => undefined,
      optional ? { kind: 'accepted' } : refusedAs([400], 'body'),
      null,
    ],
    ['the valid body as text/plain', valid, refusedAs([400, 415]), 'text/plain'],
    ['the valid body as a form', valid, refusedAs([415]), 'application/x-www-form-urlencoded'],
    ['the valid body as XML', valid, refusedAs([415]), 'application/xml'],
    ['the valid body with no content type', valid, refusedAs([400, 415]), null],
    ['a body of 1 MiB', () => mib, refusedAs([413])],
    ['a body of 1 MiB as text/plain', () => mib, refusedAs([413, 415]), 'text/plain'],
    ['an empty array', () => '[]', refusedAs([400], 'body')],
    ['the valid body inside an array', (f) => `[${valid(f)}]`, refusedAs([400], 'body')],
    // Where the body is optional, `null` may stand for no body.
    ['null', () => 'null', optional ? { kind: 'either' } : refusedAs([400], 'body')],
    ['a string', () => '"name"', refusedAs([400], 'body')],
    ['a number', () => '42', refusedAs([400], 'body')],
    ['true', () => 'true', refusedAs([400], 'body')],
    [
      'an unknown field',
      (f) => JSON.stringify({ ...route.base(f), isAdmin: true }),
      refusedAs([400], 'isAdmin'),
    ],
    ['a __proto__ field', (f) => withProto(valid(f)), refusedAs([400])],
  ];

  return table.map(([name, payload, expect, contentType]) => ({
    route: route.route,
    name,
    probe: (f) => {
      const text = payload(f);
      return {
        method: route.method,
        url: route.url(f),
        ...(text === undefined ? {} : { payload: text }),
        ...(contentType === undefined ? {} : { contentType }),
      };
    },
    expect,
    readBack: route.readBack,
  }));
}

/** Path segments: 400 naming the parameter, 404 for a well-formed unknown id, or either. */
const PATH_VALUES: readonly [string, string, 'invalid' | 'unparsable' | 'absent'][] = [
  ['a NUL byte', '%00', 'invalid'],
  ['an encoded ../..', '..%2F..', 'invalid'],
  ['an encoded ..', '%2e%2e', 'unparsable'],
  ['65 characters', 'k'.repeat(65), 'invalid'],
  ['5,000 characters', 'k'.repeat(5000), 'unparsable'],
  ['a unicode id', encodeURIComponent('ключ_🚀'), 'invalid'],
  ['a bare %', '%', 'unparsable'],
  ['an encoded lone surrogate', '%ED%A0%80', 'unparsable'],
  ['SQL', encodeURIComponent("x' OR '1'='1"), 'invalid'],
  ['a well-formed unknown id', 'key_0000000000000000000000', 'absent'],
];

/** Path segments for free-text parameters (external ids, rate-limit identifiers). */
const TEXT_PATH_VALUES: typeof PATH_VALUES = [
  ['a NUL byte', '%00', 'invalid'],
  ['an escape character', '%1B', 'invalid'],
  ['257 characters', 'k'.repeat(257), 'invalid'],
  ['5,000 characters', 'k'.repeat(5000), 'unparsable'],
  ['a bare %', '%', 'unparsable'],
  ['an encoded lone surrogate', '%ED%A0%80', 'unparsable'],
  ['a unicode id', encodeURIComponent('客户_🚀'), 'absent'],
  ['SQL', encodeURIComponent("x' OR '1'='1"), 'absent'],
];

/** Path segments for a rate-limit namespace, which any well-formed name names. */
const NAMESPACE_PATH_VALUES: typeof PATH_VALUES = PATH_VALUES.filter(
  ([, , expect]) => expect !== 'absent',
);

interface PathRoute {
  route: string;
  method: Method;
  param: string;
  url(id: string): string;
  /** A valid body, for routes that need one. */
  body?: Record<string, unknown> | undefined;
  /** The segments to try; PATH_VALUES, for ids, when absent. */
  values?: typeof PATH_VALUES;
}

function pathRoute(
  method: Method,
  template: string,
  body?: Record<string, unknown>,
  values?: typeof PATH_VALUES,
): PathRoute {
  const param = /:(\w+)/.exec(template)?.[1] ?? '';
  const url = (id: string) => template.replace(`:${param}`, id);
  return { route: `${method} ${template}`, method, param, url, body, values };
}

const A_CREDITS_CHANGE = { op: 'set', value: 1 };
const A_LIMIT_CALL = { identifier: 'x', limit: 1, duration: 1000 };

export const PATH_ROUTES: PathRoute[] = [
  pathRoute('DELETE', '/v1/root-keys/:rootKeyId'),
  pathRoute('GET', '/v1/apis/:apiId'),
  pathRoute('DELETE', '/v1/apis/:apiId'),
  pathRoute('POST', '/v1/apis/:apiId/keys', { name: 'x' }),
  pathRoute('GET', '/v1/apis/:apiId/keys'),
  pathRoute('GET', '/v1/keys/:keyId'),
  pathRoute('PATCH', '/v1/keys/:keyId', { name: 'x' }),
  pathRoute('DELETE', '/v1/keys/:keyId'),
  pathRoute('POST', '/v1/keys/:keyId/roll', {}),
  pathRoute('POST', '/v1/keys/:keyId/credits', A_CREDITS_CHANGE),
  pathRoute('GET', '/v1/identities/:externalId', undefined, TEXT_PATH_VALUES),
  pathRoute('PATCH', '/v1/identities/:externalId', { meta: null }, TEXT_PATH_VALUES),
  pathRoute('DELETE', '/v1/identities/:externalId', undefined, TEXT_PATH_VALUES),
  pathRoute('POST', '/v1/identities/:externalId/credits', A_CREDITS_CHANGE, TEXT_PATH_VALUES),
  pathRoute('POST', '/v1/ratelimits/:namespace/limit', A_LIMIT_CALL, NAMESPACE_PATH_VALUES),
  pathRoute('GET', '/v1/ratelimits/:namespace/overrides/x', undefined, NAMESPACE_PATH_VALUES),
  pathRoute('GET', '/v1/ratelimits/corpus/overrides/:identifier', undefined, TEXT_PATH_VALUES),
  pathRoute('DELETE', '/v1/ratelimits/corpus/overrides/:identifier', undefined, TEXT_PATH_VALUES),
];

function pathCases(route: PathRoute): Case[] {
  const expectations: Record<(typeof PATH_VALUES)[number][2], Expectation> = {
    invalid: { kind: 'refused', status: BAD_REQUEST, field: `params.${route.param}` },
    absent: { kind: 'refused', status: [404] },
    unparsable: { kind: 'refused', status: [400, 404, 414] },
  };
  return (route.values ?? PATH_VALUES).map(([name, segment, expect]) => ({
    route: route.route,
    name: `${route.param}: ${name}`,
    probe: () => ({
      method: route.method,
      url: route.url(segment),
      ...(route.body ? { payload: JSON.stringify(route.body) } : {}),
    }),
    expect: expectations[expect],
  }));
}

/** A query string, and the parameter whose `errors` entry refuses it (`null`: accepted). */
type QueryValue = [name: string, query: string, field: string | null];

const cursorOf = (text: string) => Buffer.from(text).toString('base64url');

const LIST_QUERIES: QueryValue[] = [
  ['limit=0', 'limit=0', 'query.limit'],
  ['limit=101', 'limit=101', 'query.limit'],
  ['limit=-1', 'limit=-1', 'query.limit'],
  ['limit=abc', 'limit=abc', 'query.limit'],
  ['limit=1.5', 'limit=1.5', 'query.limit'],
  ['limit=1e308', 'limit=1e308', 'query.limit'],
  ['limit=NaN', 'limit=NaN', 'query.limit'],
  ['an empty limit', 'limit=', 'query.limit'],
  ['limit twice', 'limit=1&limit=2', 'query.limit'],
  ['limit as an array', 'limit[]=1', 'query.limit[]'],
  ['an unknown parameter', 'isAdmin=true', 'query.isAdmin'],
  ['a forged cursor', 'cursor=abc', 'query.cursor'],
  ['a cursor hiding SQL', `cursor=${cursorOf("' OR 1=1 --")}`, 'query.cursor'],
  ['an empty cursor', 'cursor=', 'query.cursor'],
  ['a NUL cursor', 'cursor=%00', 'query.cursor'],
  ['a cursor of 201 characters', `cursor=${'c'.repeat(201)}`, 'query.cursor'],
  ['a cursor of 10,000 characters', `cursor=${'c'.repeat(10_000)}`, 'query.cursor'],
  ['limit=1', 'limit=1', null],
];

const KEY_LIST_QUERIES: QueryValue[] = [
  ['externalId with a NUL byte', 'externalId=a%00', 'query.externalId'],
  ['externalId of 10,000 characters', `externalId=${TEN_THOUSAND}`, 'query.externalId'],
  ['externalId twice', 'externalId=a&externalId=b', 'query.externalId'],
  ['an empty externalId', 'externalId=', 'query.externalId'],
  ['a unicode externalId', `externalId=${encodeURIComponent('客户 🚀')}`, null],
];

const AUDIT_QUERIES: QueryValue[] = [
  ['action with a NUL byte', 'action=key.create%00', 'query.action'],
  ['action in upper case', 'action=KEY.CREATE', 'query.action'],
  ['action of 10,000 characters', `action=${TEN_THOUSAND}`, 'query.action'],
  ['action twice', 'action=key.create&action=key.update', 'query.action'],
  ['targetId with a NUL byte', 'targetId=key_%00', 'query.targetId'],
  ['targetId of 5,000 characters', `targetId=${'k'.repeat(5000)}`, 'query.targetId'],
  ['a unicode targetId', `targetId=${encodeURIComponent('ключ')}`, 'query.targetId'],
  ['targetId with SQL', `targetId=${encodeURIComponent("' OR 1=1 --")}`, 'query.targetId'],
  ['a known action', 'action=key.create', null],
];

const USAGE_QUERIES: QueryValue[] = [
  ['granularity=week', 'granularity=week', 'query.granularity'],
  ['granularity twice', 'granularity=hour&granularity=day', 'query.granularity'],
  ['from that is no time', 'from=yesterday', 'query.from'],
  ['from with a NUL byte', 'from=2026-01-01T00:00:00Z%00', 'query.from'],
  ['from of 10,000 characters', `from=${TEN_THOUSAND}`, 'query.from'],
  ['to as a number', 'to=1700000000000', 'query.to'],
  ['from after to', 'from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.from'],
  ['from equal to to', 'from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.from'],
  [
    '1,501 minute buckets',
    'granularity=minute&from=2026-01-01T00:00:00Z&to=2026-01-02T01:01:00Z',
    'query.from',
  ],
  ['ten years of hours', 'from=2016-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.from'],
  ['a leap second', 'from=2026-06-30T23:59:60Z', 'query.from'],
  ['apiId with SQL', `apiId=${encodeURIComponent("' OR 1=1 --")}`, 'query.apiId'],
  ['keyId of 5,000 characters', `keyId=${'k'.repeat(5000)}`, 'query.keyId'],
  ['keyId with apiId', 'keyId=key_x&apiId=api_x', 'query.keyId'],
  ['externalId with a NUL byte', 'externalId=a%00', 'query.externalId'],
  ['an empty tag', 'tag=', 'query.tag'],
  ['a tag with a NUL byte', 'tag=a%00', 'query.tag'],
  ['a tag of 129 characters', `tag=${'t'.repeat(129)}`, 'query.tag'],
  ['an unknown parameter', 'isAdmin=true', 'query.isAdmin'],
  ['a unicode externalId and tag', `externalId=${encodeURIComponent('客户 🚀')}&tag=β`, null],
  [
    'a day of minutes',
    'granularity=minute&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z',
    null,
  ],
];

const TOP_QUERIES: QueryValue[] = [
  ['by=api', 'by=api', 'query.by'],
  ['metric=errors', 'metric=errors', 'query.metric'],
  ['limit=0', 'limit=0', 'query.limit'],
  ['limit=101', 'limit=101', 'query.limit'],
  ['limit=1.5', 'limit=1.5', 'query.limit'],
  ['from after to', 'from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.from'],
  ['an unknown parameter', 'apiId=api_x', 'query.apiId'],
  ['identities by denials', 'by=identity&metric=denials&limit=5', null],
  ['keys by one code', 'metric=RATE_LIMITED', null],
];

/** Only refusals: an accepted DELETE would revoke the fixture's key. */
const DELETE_QUERIES: QueryValue[] = [
  ['permanent=yes', 'permanent=yes', 'query.permanent'],
  ['permanent twice', 'permanent=true&permanent=false', 'query.permanent'],
  ['permanent=%00', 'permanent=%00', 'query.permanent'],
  ['an unknown parameter', 'cascade=true', 'query.cascade'],
];

interface QueryRoute {
  route: string;
  method: Method;
  url(fixture: Fixture): string;
  queries: QueryValue[];
}

export const QUERY_ROUTES: QueryRoute[] = [
  { route: 'GET /v1/root-keys', method: 'GET', url: () => '/v1/root-keys', queries: LIST_QUERIES },
  { route: 'GET /v1/apis', method: 'GET', url: () => '/v1/apis', queries: LIST_QUERIES },
  {
    route: 'GET /v1/apis/:apiId/keys',
    method: 'GET',
    url: (f) => `/v1/apis/${f.apiId}/keys`,
    queries: [...LIST_QUERIES, ...KEY_LIST_QUERIES],
  },
  {
    route: 'GET /v1/audit',
    method: 'GET',
    url: () => '/v1/audit',
    queries: [...LIST_QUERIES, ...AUDIT_QUERIES],
  },
  {
    route: 'GET /v1/identities',
    method: 'GET',
    url: () => '/v1/identities',
    queries: LIST_QUERIES,
  },
  { route: 'GET /v1/usage', method: 'GET', url: () => '/v1/usage', queries: USAGE_QUERIES },
  { route: 'GET /v1/usage/top', method: 'GET', url: () => '/v1/usage/top', queries: TOP_QUERIES },
  {
    route: 'DELETE /v1/keys/:keyId',
    method: 'DELETE',
    url: (f) => `/v1/keys/${f.deleteKeyId}`,
    queries: DELETE_QUERIES,
  },
];

function queryCases(route: QueryRoute): Case[] {
  return route.queries.map(([name, query, field]) => ({
    route: route.route,
    name: `?${name}`,
    probe: (f) => ({ method: route.method, url: `${route.url(f)}?${query}` }),
    expect: field === null ? { kind: 'accepted' } : { kind: 'refused', status: BAD_REQUEST, field },
  }));
}

/** Every case of the corpus. */
export function allCases(): Case[] {
  return [
    ...BODY_ROUTES.flatMap((route) => [
      ...bodyCases(route),
      ...route.fields.flatMap((spec) => spec.values.map((value) => fieldCase(route, spec, value))),
    ]),
    ...PATH_ROUTES.flatMap(pathCases),
    ...QUERY_ROUTES.flatMap(queryCases),
  ];
}

// ---------------------------------------------------------------------------------------
// Judging answers

/** An answer as the tests see it. */
export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: unknown;
  text: string;
}

/** The answer's body as an object, or an empty one. */
export function bodyOf(answer: Answer): Record<string, unknown> {
  const { body } = answer;
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

/** Sends a probe with the given root key, exactly as written. */
export async function send(t: TestApp, probe: Probe, rootKey = t.rootKey): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${rootKey}` };
  const hasBody = probe.payload !== undefined;
  if (probe.contentType !== null && (hasBody || probe.contentType !== undefined))
    headers['content-type'] = probe.contentType ?? 'application/json';

  const response = await t.inject({
    method: probe.method,
    url: probe.url,
    headers,
    ...(hasBody ? { payload: probe.payload } : {}),
  });
  let body: unknown;
  try {
    body = response.body === '' ? undefined : JSON.parse(response.body);
  } catch {
    body = response.body;
  }
  return { status: response.statusCode, headers: response.headers, body, text: response.body };
}

/** Whether an error's `path` names `field` or a part of it (`query.limit`, `ratelimits[0]`). */
export function namesField(path: string, field: string): boolean {
  const bare = (p: string) => p.replace(/^(query|params|body)\./, '');
  const [actual, wanted] = [bare(path), bare(field)];
  return actual === wanted || actual.startsWith(`${wanted}.`) || actual.startsWith(`${wanted}[`);
}

/** A short description of an answer, for assertion messages. */
export function describeAnswer(answer: Answer): string {
  return `${answer.status} ${String(answer.headers['content-type'])} ${answer.text.slice(0, 300)}`;
}

/**
 * Asserts an RFC 9457 problem with one of `statuses`; when `field` is given, its `errors`
 * name that field.
 */
export function assertProblem(answer: Answer, statuses: readonly number[], field?: string): void {
  const seen = describeAnswer(answer);
  if (!statuses.includes(answer.status)) {
    throw new Error(`expected a ${statuses.join(' or ')} problem, got ${seen}`);
  }
  if (!/^application\/problem\+json\b/.test(String(answer.headers['content-type']))) {
    throw new Error(`expected content-type application/problem+json, got ${seen}`);
  }
  const body = bodyOf(answer);
  const missing = ['type', 'title', 'detail', 'code', 'requestId'].filter(
    (name) => typeof body[name] !== 'string' || body[name] === '',
  );
  if (missing.length > 0 || body.status !== answer.status) {
    throw new Error(`the problem lacks ${missing.join(', ') || 'a matching status'}: ${seen}`);
  }
  if (field === undefined) return;

  const errors = body.errors as { path: unknown; message: unknown }[] | undefined;
  const named = errors?.some(
    (e) => typeof e.path === 'string' && typeof e.message === 'string' && namesField(e.path, field),
  );
  if (!named) throw new Error(`expected errors[] naming ${field}, got ${seen}`);
}
