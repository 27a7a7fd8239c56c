import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  canGrant,
  evaluatePermissionQuery,
  holdsPermission,
  MAX_QUERY_DEPTH,
  MAX_QUERY_LENGTH,
  type PermissionQuery,
  parsePermissionQuery,
  permissionMatches,
} from '../../src/core/permissions.ts';

// A small alphabet, so that random patterns and names collide often enough to matter.
const literalSegment = fc.constantFrom('a', 'b', 'api');
const patternSegment = fc.oneof(literalSegment, fc.constant('*'));
const pattern = fc.array(patternSegment, { minLength: 1, maxLength: 3 }).map((s) => s.join('.'));
const concreteName = fc
  .array(literalSegment, { minLength: 1, maxLength: 5 })
  .map((s) => s.join('.'));
const heldList = fc.array(pattern, { maxLength: 4 });

/** An independent reading of the matching rules, as a regular expression. */
function matcherFor(held: string): RegExp {
  const segments = held.split('.');
  const parts = segments.map((segment, index) => {
    if (segment !== '*') return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return index === segments.length - 1 ? '.*' : '[^.]*';
  });
  return new RegExp(`^${parts.join('\\.')}$`);
}

/** Every name of one to five segments over `a`, `b`, `api` and a segment no pattern names. */
function boundedUniverse(): string[] {
  const segments = ['a', 'b', 'api', 'unnamed'];
  let level = [...segments];
  const all = [...level];
  for (let length = 2; length <= 5; length += 1) {
    level = level.flatMap((name) => segments.map((segment) => `${name}.${segment}`));
    all.push(...level);
  }
  return all;
}

/** A concrete name that `requested` matches, its wildcards filled from `fillers`. */
function instantiate(requested: string, fillers: readonly string[]): string {
  const segments = requested.split('.');
  let next = 0;
  const take = () => fillers[next++ % fillers.length] ?? 'filler';
  return segments
    .map((segment, index) => {
      if (segment !== '*') return segment;
      return index === segments.length - 1 ? `${take()}.${take()}` : take();
    })
    .join('.');
}

function parsed(text: string): PermissionQuery {
  const result = parsePermissionQuery(text);
  if (!result.ok) assert.fail(`expected ${JSON.stringify(text)} to parse: ${result.error.message}`);
  return result.query;
}

function name(text: string): PermissionQuery {
  return { kind: 'permission', name: text };
}

describe('permissionMatches', () => {
  const table: [held: string, wanted: string, matches: boolean][] = [
    ['api.api_1.read_key', 'api.api_1.read_key', true],
    ['api.api_1.read_key', 'api.api_1.update_key', false],
    ['api.api_1.read_key', 'api.api_1', false],
    ['api.api_1.read_key', 'api.api_1.read_key.extra', false],
    ['API.api_1.read_key', 'api.api_1.read_key', false],
    ['api.*.verify_key', 'api.api_1.verify_key', true],
    ['api.*.verify_key', 'api.api_1.read_key', false],
    ['api.*.verify_key', 'api.verify_key', false],
    ['api.*.verify_key', 'api.a.b.verify_key', false],
    ['*.read', 'audit.read', true],
    ['*.read', 'a.b.read', false],
    ['api.api_1.*', 'api.api_1.read_key', true],
    ['api.api_1.*', 'api.api_1.a.b', true],
    ['api.api_1.*', 'api.api_1', false],
    ['api.api_1.*', 'api.api_2.read_key', false],
    ['api.*.*', 'api.x.y', true],
    ['api.*.*', 'api.x.y.z', true],
    ['api.*.*', 'api.x', false],
    ['*', 'workspace.create', true],
    ['*', 'x', true],
    ['api', 'api.x', false],
    ['api.a*', 'api.abc', false],
    ['api.a*', 'api.a*', true],
  ];

  for (const [held, wanted, matches] of table) {
    it(`${matches ? 'matches' : 'does not match'} ${wanted} with ${held}`, () => {
      assert.equal(permissionMatches(held, wanted), matches);
    });
  }

  it('agrees with a regular-expression reading of the rules', () => {
    fc.assert(
      fc.property(pattern, concreteName, (held, wanted) => {
        assert.equal(permissionMatches(held, wanted), matcherFor(held).test(wanted));
      }),
    );
  });

  it('matches a name without wildcards only with itself', () => {
    fc.assert(
      fc.property(concreteName, concreteName, (held, wanted) => {
        assert.equal(permissionMatches(held, wanted), held === wanted);
      }),
    );
  });
});

describe('holdsPermission', () => {
  it('holds nothing with no permissions', () => {
    assert.equal(holdsPermission([], 'api.x.read_key'), false);
  });

  it('holds a name when any one held permission matches it', () => {
    const held = ['audit.read', 'api.*.verify_key'];
    assert.equal(holdsPermission(held, 'api.x.verify_key'), true);
    assert.equal(holdsPermission(held, 'audit.read'), true);
    assert.equal(holdsPermission(held, 'api.x.read_key'), false);
  });
});

describe('canGrant', () => {
  const table: [granter: string[], requested: string, grantable: boolean][] = [
    [['*'], '*', true],
    [['*'], 'api.*.create_key', true],
    [['*'], 'workspace.create', true],
    [['api.*'], 'api.*.create_key', true],
    [['api.*'], 'api.x.*', true],
    [['api.*'], 'api.*', true],
    [['api.*'], '*', false],
    [['api.*'], 'audit.read', false],
    [['api.*.create_key'], 'api.*.create_key', true],
    [['api.*.create_key'], 'api.x.create_key', true],
    [['api.*.create_key'], 'api.*.*', false],
    [['api.*.create_key'], 'api.x.*', false],
    [['api.*.create_key'], 'api.*', false],
    [['api.x.read_key'], 'api.*.read_key', false],
    [['api.x.read_key'], 'api.x.read_key', true],
    [['api.x.*'], 'api.x.read_key', true],
    [['api.x.*'], 'api.x.*', true],
    [['api.x.*'], 'api.*.read_key', false],
    [['*.*'], '*', false],
    [['*.*'], 'a.*', true],
    [['api.*.*'], 'api.*', false],
    [['api.*.*'], 'api.*.read_key', true],
    [['api.x.read_key', 'api.y.read_key'], 'api.*.read_key', false],
    [['audit.read', 'api.*'], 'api.*.verify_key', true],
    [[], 'audit.read', false],
  ];

  for (const [granter, requested, grantable] of table) {
    it(`${grantable ? 'lets' : 'does not let'} [${granter.join(', ')}] grant ${requested}`, () => {
      assert.equal(canGrant(granter, requested), grantable);
    });
  }

  it('grants a name without wildcards exactly when the granter holds it', () => {
    fc.assert(
      fc.property(heldList, concreteName, (granter, requested) => {
        assert.equal(canGrant(granter, requested), holdsPermission(granter, requested));
      }),
    );
  });

  it('grants nothing the granter does not hold', () => {
    fc.assert(
      fc.property(heldList, pattern, concreteName, (granter, requested, wanted) => {
        if (canGrant(granter, requested) && permissionMatches(requested, wanted)) {
          assert.ok(holdsPermission(granter, wanted));
        }
      }),
    );
  });

  it('holds every name a grantable pattern matches, whatever fills its wildcards', () => {
    const fillers = fc.array(fc.constantFrom('a', 'b', 'api', 'other', 'x_1'), { minLength: 1 });
    fc.assert(
      fc.property(heldList, pattern, fillers, (granter, requested, fill) => {
        const wanted = instantiate(requested, fill);
        assert.ok(permissionMatches(requested, wanted));
        if (canGrant(granter, requested)) assert.ok(holdsPermission(granter, wanted));
      }),
    );
  });

  it('refuses exactly when some name the request matches is not held', () => {
    const universe = boundedUniverse();
    fc.assert(
      fc.property(heldList, pattern, (granter, requested) => {
        const covered = universe.every(
          (wanted) => !permissionMatches(requested, wanted) || holdsPermission(granter, wanted),
        );
        assert.equal(canGrant(granter, requested), covered);
      }),
    );
  });

  it('lets a pattern grant itself, and chains', () => {
    fc.assert(
      fc.property(pattern, pattern, pattern, (first, second, third) => {
        assert.ok(canGrant([first], first));
        if (canGrant([first], second) && canGrant([second], third)) {
          assert.ok(canGrant([first], third));
        }
      }),
    );
  });
});

describe('parsePermissionQuery', () => {
  it('parses a single name with every allowed character', () => {
    assert.deepEqual(parsed('api.key_1:read-Z9*'), name('api.key_1:read-Z9*'));
  });

  it('binds AND tighter than OR', () => {
    assert.deepEqual(parsed('a OR b AND c'), parsed('a OR (b AND c)'));
    assert.deepEqual(parsed('a AND b OR c'), parsed('(a AND b) OR c'));
    assert.notDeepEqual(parsed('a OR b AND c'), parsed('(a OR b) AND c'));
    assert.deepEqual(parsed('a OR b AND c'), {
      kind: 'or',
      operands: [name('a'), { kind: 'and', operands: [name('b'), name('c')] }],
    });
  });

  it('groups with parentheses', () => {
    assert.deepEqual(parsed('(a OR b) AND c'), {
      kind: 'and',
      operands: [{ kind: 'or', operands: [name('a'), name('b')] }, name('c')],
    });
    assert.deepEqual(parsed('((a))'), name('a'));
  });

  it('collects a run of one operator into one node', () => {
    assert.deepEqual(parsed('a AND b AND c'), {
      kind: 'and',
      operands: [name('a'), name('b'), name('c')],
    });
  });

  it('accepts any whitespace, and parentheses next to words', () => {
    assert.deepEqual(parsed(' \t(a)AND(b)\n'), parsed('a AND b'));
  });

  it('treats lower-case and, or and words starting with AND or OR as names', () => {
    assert.deepEqual(parsed('and'), name('and'));
    assert.deepEqual(parsed('and OR or'), { kind: 'or', operands: [name('and'), name('or')] });
    assert.deepEqual(parsed('ANDROID AND ORACLE'), {
      kind: 'and',
      operands: [name('ANDROID'), name('ORACLE')],
    });
  });

  const errors: [query: string, position: number, message: string][] = [
    ['', 0, 'expected a permission name or "(" but the query ended at position 0'],
    ['   ', 3, 'expected a permission name or "(" but the query ended at position 3'],
    ['a AND', 5, 'expected a permission name or "(" but the query ended at position 5'],
    ['a OR ', 5, 'expected a permission name or "(" but the query ended at position 5'],
    ['AND a', 0, 'expected a permission name or "(" but found "AND" at position 0'],
    ['a OR OR b', 5, 'expected a permission name or "(" but found "OR" at position 5'],
    ['a AND ()', 7, 'expected a permission name or "(" but found ")" at position 7'],
    ['a b', 2, 'expected "AND" or "OR" but found "b" at position 2'],
    ['a (b)', 2, 'expected "AND" or "OR" but found "(" at position 2'],
    [
      'a and b',
      2,
      'expected "AND" or "OR" but found "and" at position 2 (operators are upper case: AND, OR)',
    ],
    ['(a b)', 3, 'expected "AND", "OR" or ")" but found "b" at position 3'],
    ['(a', 2, 'expected ")" to close the "(" at position 0 but the query ended at position 2'],
    [
      'a AND (b OR (c)',
      15,
      'expected ")" to close the "(" at position 6 but the query ended at position 15',
    ],
    ['a)', 1, 'unmatched ")" at position 1'],
    ['(a) OR b)', 8, 'unmatched ")" at position 8'],
    ['a AND !b', 6, 'unexpected character "!" at position 6'],
    ['a OR b/c', 6, 'unexpected character "/" at position 6'],
    ['a OR ü', 5, 'unexpected character "ü" at position 5'],
    ['x OR 😀', 5, 'unexpected character "😀" at position 5'],
    [`a OR ${'n'.repeat(257)}`, 5, 'permission name is longer than 256 characters at position 5'],
  ];

  for (const [query, position, message] of errors) {
    it(`rejects ${JSON.stringify(query.slice(0, 30))} at position ${position}`, () => {
      assert.deepEqual(parsePermissionQuery(query), { ok: false, error: { message, position } });
    });
  }

  it('accepts a name of 256 characters', () => {
    assert.deepEqual(parsed('n'.repeat(256)), name('n'.repeat(256)));
  });

  it(`accepts ${MAX_QUERY_DEPTH} levels of parentheses and rejects one more`, () => {
    assert.equal(MAX_QUERY_DEPTH, 16);
    const nested = (depth: number) => `${'('.repeat(depth)}a${')'.repeat(depth)}`;
    assert.deepEqual(parsed(nested(16)), name('a'));
    assert.deepEqual(parsePermissionQuery(nested(17)), {
      ok: false,
      error: {
        message: 'parentheses are nested deeper than 16 levels at position 16',
        position: 16,
      },
    });
  });

  it('counts open parentheses, not parentheses seen', () => {
    const siblings = Array.from({ length: 40 }, (_, index) => `(p${index})`).join(' OR ');
    assert.equal(parsed(siblings).kind, 'or');

    let deep = 'z';
    for (let level = 0; level < 16; level += 1) deep = `(a${level} AND ${deep})`;
    assert.equal(parsed(deep).kind, 'and');
    assert.equal(parsePermissionQuery(`(b OR ${deep})`).ok, false);
  });

  it(`accepts ${MAX_QUERY_LENGTH} characters and rejects one more`, () => {
    assert.equal(MAX_QUERY_LENGTH, 1000);
    const longest = `${'abcd OR '.repeat(124)}abcdefgh`;
    assert.equal(longest.length, 1000);
    assert.equal(parsed(longest).kind, 'or');
    assert.deepEqual(parsePermissionQuery(`${longest}i`), {
      ok: false,
      error: { message: 'query is longer than 1000 characters at position 1000', position: 1000 },
    });
  });

  it('answers every string with a result and a position inside it, never a throw', () => {
    const tokens = fc.constantFrom('a', 'b.*', 'AND', 'OR', 'and', '(', ')', ' ', '!', '\t');
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(tokens).map((t) => t.join('')),
    );
    fc.assert(
      fc.property(text, (query) => {
        const result = parsePermissionQuery(query);
        if (result.ok) return;
        assert.ok(result.error.position >= 0 && result.error.position <= query.length);
        assert.ok(result.error.message.includes(`at position ${result.error.position}`));
      }),
    );
  });
});

/** Prints a query with only the parentheses precedence needs. */
function printQuery(query: PermissionQuery): string {
  if (query.kind === 'permission') return query.name;
  if (query.kind === 'and') {
    return query.operands
      .map((q) => (q.kind === 'or' ? `(${printQuery(q)})` : printQuery(q)))
      .join(' AND ');
  }
  return query.operands.map(printQuery).join(' OR ');
}

function naive(query: PermissionQuery, held: readonly string[]): boolean {
  if (query.kind === 'permission') return held.includes(query.name);
  if (query.kind === 'and') return query.operands.every((operand) => naive(operand, held));
  return query.operands.some((operand) => naive(operand, held));
}

describe('evaluatePermissionQuery', () => {
  const held = ['api.x.read_key', 'api.y.*', 'audit.read'];
  const table: [query: string, satisfied: boolean][] = [
    ['api.x.read_key', true],
    ['api.x.update_key', false],
    ['api.y.update_key', true],
    ['api.x.read_key AND audit.read', true],
    ['api.x.read_key AND api.x.update_key', false],
    ['api.x.update_key OR api.y.delete_key', true],
    ['api.x.update_key OR api.z.read_key', false],
    ['api.z.read_key OR api.x.read_key AND audit.read', true],
    ['(api.z.read_key OR api.x.read_key) AND workspace.create', false],
    // A wildcard in a query is a literal name to look up, not a question about all names.
    ['api.*.read_key', false],
  ];

  for (const [query, satisfied] of table) {
    it(`${satisfied ? 'is' : 'is not'} satisfied by ${query}`, () => {
      assert.equal(evaluatePermissionQuery(parsed(query), held), satisfied);
    });
  }

  it('is satisfied by anything for a key holding *', () => {
    assert.equal(evaluatePermissionQuery(parsed('a AND b.c AND (d OR e)'), ['*']), true);
  });

  it('evaluates a printed and reparsed query as the original', () => {
    const names = ['a', 'b', 'c', 'd'];
    const { query } = fc.letrec<{ query: PermissionQuery }>((tie) => ({
      query: fc.oneof(
        { depthSize: 'small', maxDepth: 6 },
        fc.constantFrom(...names).map(name),
        fc
          .array(tie('query'), { minLength: 2, maxLength: 3 })
          .map((operands): PermissionQuery => ({ kind: 'and', operands })),
        fc
          .array(tie('query'), { minLength: 2, maxLength: 3 })
          .map((operands): PermissionQuery => ({ kind: 'or', operands })),
      ),
    }));
    const heldNames = fc.subarray(names);

    fc.assert(
      fc.property(query, heldNames, (original, heldNow) => {
        const reparsed = parsed(printQuery(original));
        assert.equal(evaluatePermissionQuery(reparsed, heldNow), naive(original, heldNow));
      }),
    );
  });
});
