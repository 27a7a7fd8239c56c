/** How keygate's records read to a person: table rows and key/value blocks. */
import {
  compactJson,
  duration,
  list,
  NONE,
  renderFields,
  renderTable,
  shortDate,
  sparkline,
  text,
} from './format.ts';
import type {
  ApiView,
  CreatedKeyView,
  CreditsView,
  IdentityView,
  KeyView,
  LimitAnswerView,
  OverrideView,
  RateLimitView,
  UsageView,
  VerifyView,
} from './types.ts';

/** A table of APIs. */
export function apisTable(apis: ApiView[]): string {
  const rows = apis.map((api) => [api.id, api.name, api.prefix, shortDate(api.createdAt)]);
  return renderTable(['ID', 'NAME', 'PREFIX', 'CREATED'], rows);
}

/** One API as a key/value block. */
export function apiBlock(api: ApiView): string {
  return renderFields([
    ['id', api.id],
    ['name', api.name],
    ['prefix', api.prefix],
    ['created', shortDate(api.createdAt, true)],
  ]);
}

/** A table of keys, without their secrets. */
export function keysTable(keys: KeyView[], now = Date.now()): string {
  const headers = [
    'ID',
    'START',
    'NAME',
    'EXTERNAL ID',
    'STATUS',
    'EXPIRES',
    'LAST USED',
    'CREATED',
  ];
  const rows = keys.map((key) => [
    key.id,
    key.start,
    text(key.name),
    text(key.externalId),
    keyStatus(key, now),
    shortDate(key.expiresAt),
    shortDate(key.lastUsedAt),
    shortDate(key.createdAt),
  ]);
  return renderTable(headers, rows);
}

/** Whether a key would verify, in one word: `revoked`, `disabled`, `expired` or `active`. */
export function keyStatus(key: KeyView, now = Date.now()): string {
  if (key.revokedAt) return 'revoked';
  if (!key.enabled) return 'disabled';
  if (key.expiresAt && Date.parse(key.expiresAt) <= now) return 'expired';
  return 'active';
}

/** One key as a key/value block. */
export function keyBlock(key: KeyView, now = Date.now()): string {
  return renderFields([
    ['id', key.id],
    ['start', key.start],
    ['api', key.apiId],
    ['name', text(key.name)],
    ['external id', text(key.externalId)],
    ['status', keyStatus(key, now)],
    ['permissions', list(key.permissions)],
    ['meta', compactJson(key.meta)],
    ['expires', shortDate(key.expiresAt, true)],
    ['credits', credits(key.credits)],
    ['rate limits', rateLimits(key.ratelimits)],
    ['created', shortDate(key.createdAt, true)],
    ['updated', shortDate(key.updatedAt, true)],
    ['last used', shortDate(key.lastUsedAt, true)],
    ['revoked', shortDate(key.revokedAt, true)],
    ['rolled from', text(key.rolledFrom)],
  ]);
}

/** A new key, its secret set apart so it is hard to miss, then its record. */
export function createdKeyBlock(created: CreatedKeyView, headline: string): string {
  const { key, ...view } = created;
  return [
    headline,
    'Store the key now: keygate keeps only its hash and cannot show it again.',
    '',
    `    ${key}`,
    '',
    keyBlock(view),
  ].join('\n');
}

/** The outcome of a verification as a key/value block, with a table of its rate limits. */
export function verifyBlock(result: VerifyView): string {
  const fields: [string, string][] = [
    ['valid', result.valid ? 'yes' : 'no'],
    ['code', result.code],
  ];
  if (result.keyId !== undefined) fields.push(...verifiedKeyFields(result));

  const limits = result.ratelimits ?? [];
  if (limits.length === 0) return renderFields(fields);

  const rows = limits.map((limit) => [
    limit.name,
    `${limit.remaining}/${limit.limit}`,
    duration(limit.duration),
    shortDate(limit.resetAt, true),
    limit.exceeded ? 'yes' : 'no',
  ]);
  const table = renderTable(['RATE LIMIT', 'REMAINING', 'WINDOW', 'RESETS', 'EXCEEDED'], rows);
  return `${renderFields(fields)}\n\n${table}`;
}

function verifiedKeyFields(result: VerifyView): [string, string][] {
  return [
    ['key id', text(result.keyId)],
    ['api', text(result.apiId)],
    ['name', text(result.name)],
    ['external id', text(result.externalId)],
    ['enabled', result.enabled === undefined ? NONE : result.enabled ? 'yes' : 'no'],
    ['permissions', list(result.permissions)],
    ['meta', compactJson(result.meta)],
    ['expires', shortDate(result.expiresAt, true)],
    ['credits', credits(result.credits ?? null)],
  ];
}

function credits(value: CreditsView | null): string {
  if (!value) return NONE;

  const remaining = value.remaining === null ? 'unlimited' : String(value.remaining);
  const refill = value.refill;
  if (!refill || refill.interval === 'never') return remaining;
  const day = refill.day === undefined ? '' : ` on day ${refill.day}`;
  return `${remaining} (refills to ${refill.amount} ${refill.interval}${day})`;
}

function rateLimits(limits: RateLimitView[] | null | undefined): string {
  if (!limits || limits.length === 0) return NONE;
  return limits
    .map((limit) => `${limit.name} ${limit.limit}/${duration(limit.duration)}${limitFlags(limit)}`)
    .join(', ');
}

/** How a limit differs from a plain, automatic sliding window, e.g. ` (token bucket, burst 20)`. */
function limitFlags(limit: RateLimitView): string {
  const flags: string[] = [];
  if (limit.algorithm === 'token-bucket') {
    flags.push(`token bucket${limit.burst === undefined ? '' : `, burst ${limit.burst}`}`);
  }
  if (limit.autoApply === false) flags.push('when named');
  if (limit.shadow) flags.push('shadow');
  return flags.length === 0 ? '' : ` (${flags.join(', ')})`;
}

/** A table of identities. */
export function identitiesTable(identities: IdentityView[]): string {
  const rows = identities.map((identity) => [
    identity.externalId,
    identity.id,
    credits(identity.credits),
    rateLimits(identity.ratelimits),
    shortDate(identity.createdAt),
  ]);
  return renderTable(['EXTERNAL ID', 'ID', 'CREDITS', 'RATE LIMITS', 'CREATED'], rows);
}

/** One identity as a key/value block. */
export function identityBlock(identity: IdentityView): string {
  return renderFields([
    ['external id', identity.externalId],
    ['id', identity.id],
    ['meta', compactJson(identity.meta)],
    ['credits', credits(identity.credits)],
    ['rate limits', rateLimits(identity.ratelimits)],
    ['created', shortDate(identity.createdAt, true)],
    ['updated', shortDate(identity.updatedAt, true)],
  ]);
}

/** The answer of the standalone limiter as a key/value block. */
export function limitBlock(answer: LimitAnswerView): string {
  return renderFields([
    ['allowed', answer.success ? 'yes' : 'no'],
    ['limit', String(answer.limit)],
    ['remaining', String(answer.remaining)],
    ['resets', shortDate(answer.resetAt, true)],
    ['override', text(answer.overrideId)],
  ]);
}

/** An override as a key/value block. */
export function overrideBlock(override: OverrideView): string {
  return renderFields([
    ['namespace', override.namespace],
    ['identifier', override.identifier],
    ['limit', override.limit === 0 ? '0 (blocked)' : String(override.limit)],
    ['window', duration(override.duration)],
    ['id', override.id],
    ['updated', shortDate(override.updatedAt, true)],
  ]);
}

/**
 * Usage for a person: the range, then a row per outcome seen (VALID always) with its total
 * and its trend over the buckets.
 */
export function usageReport(usage: UsageView): string {
  const buckets = usage.series.length;
  const range = `${shortDate(usage.from)} to ${shortDate(usage.to)}`;
  const heading = `Verifications by ${usage.granularity}, ${range} (${buckets} buckets)`;
  const codes = Object.keys(usage.totals).filter(
    (code) => code === 'VALID' || (usage.totals[code] ?? 0) > 0,
  );
  const rows = codes.map((code) => [
    code,
    (usage.totals[code] ?? 0).toLocaleString('en-US'),
    sparkline(usage.series.map((point) => point.counts[code] ?? 0)),
  ]);
  return `${heading}\n\n${renderTable(['OUTCOME', 'TOTAL', 'TREND'], rows)}`;
}
