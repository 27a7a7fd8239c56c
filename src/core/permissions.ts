/** The longest permission query `parsePermissionQuery` accepts, in characters. */
export const MAX_QUERY_LENGTH = 1000;
/** The deepest nesting of parentheses `parsePermissionQuery` accepts. */
export const MAX_QUERY_DEPTH = 16;
/** The longest permission name, in characters. */
export const MAX_PERMISSION_NAME_LENGTH = 256;

const WILDCARD = '*';

/**
 * True when the held permission `held` grants the concrete permission `wanted`.
 *
 * @example permissionMatches('api.*.verify_key', 'api.api_1.verify_key') // true
 */
export function permissionMatches(held: string, wanted: string): boolean {
  const pattern = held.split('.');
  const name = wanted.split('.');

  for (const [index, segment] of pattern.entries()) {
    if (segment === WILDCARD && index === pattern.length - 1) return index < name.length;
    if (index >= name.length) return false;
    if (segment !== WILDCARD && segment !== name[index]) return false;
  }
  return pattern.length === name.length;
}

/** True when any of the `held` permissions grants the concrete permission `wanted`. */
export function holdsPermission(held: readonly string[], wanted: string): boolean {
  return held.some((permission) => permissionMatches(permission, wanted));
}

/**
 * True when a key holding `granter` may grant `requested`: when every concrete name that
 * `requested` matches is held.
 *
 * @example canGrant(['api.*'], 'api.*.create_key') // true
 * @example canGrant(['api.*.create_key'], 'api.x.*') // false
 */
export function canGrant(granter: readonly string[], requested: string): boolean {
  // Matching the request literally is exactly the covering test. A requested `*` segment is
  // taken only by a held `*` in the same place, never by a held literal. A trailing requested
  // `*` then reads as one segment, which a held `*` there takes only when it is trailing too
  // (else more segments must follow), and a trailing held `*` takes any number of segments.
  // No set of narrower held patterns can stand in for a wildcard: segments are unbounded text.
  return holdsPermission(granter, requested);
}

/**
 * A parsed permission query. A name is satisfied when the key holds it; `and` and `or` have
 * two or more operands.
 */
export type PermissionQuery =
  | { readonly kind: 'permission'; readonly name: string }
  | { readonly kind: 'and'; readonly operands: readonly PermissionQuery[] }
  | { readonly kind: 'or'; readonly operands: readonly PermissionQuery[] };

/** Why a permission query did not parse, and the 0-based character index of the problem. */
export interface PermissionQueryError {
  message: string;
  position: number;
}

/** The outcome of `parsePermissionQuery`. */
export type ParsePermissionQueryResult =
  | { ok: true; query: PermissionQuery }
  | { ok: false; error: PermissionQueryError };

type TokenKind = 'name' | 'and' | 'or' | 'open' | 'close' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
  position: number;
}

// Whitespace, a parenthesis, or a run of permission-name characters.
const TOKEN_SOURCE = String.raw`(\s+)|([()])|([A-Za-z0-9_.:*-]+)`;

// Thrown only inside the parser, so each step can stop at the first problem; it never escapes.
class QuerySyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
    note = '',
  ) {
    super(`${message} at position ${position}${note}`);
  }
}

/**
 * Parses a query of permission names joined by `AND` and `OR`, with parentheses; `AND` binds
 * tighter than `OR`. Only upper-case `AND` and `OR` are operators: `and` and `or` are names.
 *
 * @example parsePermissionQuery('api.x.read_key OR (api.x.update_key AND audit.read)')
 */
export function parsePermissionQuery(text: string): ParsePermissionQueryResult {
  try {
    if (text.length > MAX_QUERY_LENGTH) {
      throw new QuerySyntaxError(
        `query is longer than ${MAX_QUERY_LENGTH} characters`,
        MAX_QUERY_LENGTH,
      );
    }
    const tokens = tokenize(text);
    const end: Token = { kind: 'end', text: '', position: text.length };
    const parser: Parser = { tokens, end, index: 0, depth: 0 };
    const query = parseOr(parser);
    expectEnd(parser);
    return { ok: true, query };
  } catch (error) {
    if (!(error instanceof QuerySyntaxError)) throw error;
    return { ok: false, error: { message: error.message, position: error.position } };
  }
}

/** True when a key holding `held` satisfies `query`. */
export function evaluatePermissionQuery(query: PermissionQuery, held: readonly string[]): boolean {
  switch (query.kind) {
    case 'permission':
      return holdsPermission(held, query.name);
    case 'and':
      return query.operands.every((operand) => evaluatePermissionQuery(operand, held));
    case 'or':
      return query.operands.some((operand) => evaluatePermissionQuery(operand, held));
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  // Sticky, so each match starts exactly where the previous one ended.
  const pattern = new RegExp(TOKEN_SOURCE, 'y');

  while (pattern.lastIndex < text.length) {
    const position = pattern.lastIndex;
    const match = pattern.exec(text);
    if (!match) {
      const character = String.fromCodePoint(text.codePointAt(position) ?? 0);
      throw new QuerySyntaxError(`unexpected character ${JSON.stringify(character)}`, position);
    }
    if (match[1] !== undefined) continue;

    tokens.push({ kind: tokenKind(match[0]), text: match[0], position });
  }
  return tokens;
}

function tokenKind(text: string): TokenKind {
  if (text === '(') return 'open';
  if (text === ')') return 'close';
  if (text === 'AND') return 'and';
  if (text === 'OR') return 'or';
  return 'name';
}

interface Parser {
  tokens: Token[];
  end: Token;
  index: number;
  depth: number;
}

function peek(parser: Parser): Token {
  return parser.tokens[parser.index] ?? parser.end;
}

function advance(parser: Parser): Token {
  const token = peek(parser);
  parser.index += 1;
  return token;
}

function parseOr(parser: Parser): PermissionQuery {
  const first = parseAnd(parser);
  const operands = [first];
  while (peek(parser).kind === 'or') {
    advance(parser);
    operands.push(parseAnd(parser));
  }
  return operands.length === 1 ? first : { kind: 'or', operands };
}

function parseAnd(parser: Parser): PermissionQuery {
  const first = parseOperand(parser);
  const operands = [first];
  while (peek(parser).kind === 'and') {
    advance(parser);
    operands.push(parseOperand(parser));
  }
  return operands.length === 1 ? first : { kind: 'and', operands };
}

function parseOperand(parser: Parser): PermissionQuery {
  const token = advance(parser);
  if (token.kind === 'name') return permissionName(token);
  if (token.kind !== 'open') throw unexpected(token, 'a permission name or "("');

  parser.depth += 1;
  if (parser.depth > MAX_QUERY_DEPTH) {
    throw new QuerySyntaxError(
      `parentheses are nested deeper than ${MAX_QUERY_DEPTH} levels`,
      token.position,
    );
  }
  const inner = parseOr(parser);
  expectClose(parser, token);
  parser.depth -= 1;
  return inner;
}

function permissionName(token: Token): PermissionQuery {
  if (token.text.length > MAX_PERMISSION_NAME_LENGTH) {
    throw new QuerySyntaxError(
      `permission name is longer than ${MAX_PERMISSION_NAME_LENGTH} characters`,
      token.position,
    );
  }
  return { kind: 'permission', name: token.text };
}

function expectClose(parser: Parser, open: Token): void {
  const token = advance(parser);
  if (token.kind === 'close') return;
  if (token.kind === 'end') {
    throw new QuerySyntaxError(
      `expected ")" to close the "(" at position ${open.position} but the query ended`,
      token.position,
    );
  }
  throw unexpected(token, '"AND", "OR" or ")"');
}

function expectEnd(parser: Parser): void {
  const token = peek(parser);
  if (token.kind === 'end') return;
  if (token.kind === 'close') throw new QuerySyntaxError('unmatched ")"', token.position);
  throw unexpected(token, '"AND" or "OR"');
}

function unexpected(token: Token, expected: string): QuerySyntaxError {
  if (token.kind === 'end') {
    return new QuerySyntaxError(`expected ${expected} but the query ended`, token.position);
  }
  // Operators are case-sensitive, so a lower-case one reads as a name; say so.
  const lowerCaseOperator = token.kind === 'name' && /^(and|or)$/i.test(token.text);
  return new QuerySyntaxError(
    `expected ${expected} but found ${JSON.stringify(token.text)}`,
    token.position,
    lowerCaseOperator ? ' (operators are upper case: AND, OR)' : '',
  );
}
