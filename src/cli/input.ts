/**
 * Parsers of option values. Each throws commander's `InvalidArgumentError`, so a bad value
 * is reported as a usage error naming the option, before any request is sent.
 */
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d|w)?$/;

/** Parses `500ms`, `30s`, `15m`, `12h`, `30d` or `2w` to milliseconds; a bare number is ms. */
export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) {
    throw new InvalidArgumentError('Expected a duration such as 500ms, 30s, 15m, 12h, 30d or 2w.');
  }

  const ms = Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1);
  if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError('The duration is too long.');
  return ms;
}

/**
 * Parses an expiry: an ISO 8601 time, or a duration with a unit counted from `now`
 * (`30d`, `12h`), or `never` (answered as `null`).
 */
export function parseExpiry(text: string, now = Date.now()): string | null {
  const value = text.trim();
  if (value === 'never') return null;
  if (/^\d+(ms|s|m|h|d|w)$/.test(value)) return new Date(now + parseDuration(value)).toISOString();

  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new InvalidArgumentError(
      'Expected an ISO 8601 time (2030-01-31 or 2030-01-31T12:00:00Z), ' +
        'a duration such as 30d or 12h, or never.',
    );
  }
  return new Date(time).toISOString();
}

/** Parses `--meta`: a JSON object, or `null` (which clears it on update). */
export function parseMeta(text: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`Not valid JSON (${(error as Error).message}).`);
  }

  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw new InvalidArgumentError('Expected a JSON object such as {"plan":"pro"}.');
  }
  return value as Record<string, unknown> | null;
}

/** Parses a non-negative whole number. */
export function parseCount(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError('Expected a whole number, 0 or more.');
  }
  return value;
}

/** Collects a repeatable option (`--permission a --permission b`) into a list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A rate limit as `--limit` gives it; the server checks the ranges. */
export interface LimitOption {
  name: string;
  limit: number;
  duration: number;
  algorithm?: 'sliding-window' | 'token-bucket';
  burst?: number;
  autoApply?: boolean;
  shadow?: boolean;
}

/** What an unnamed `--limit` is called. */
export const DEFAULT_LIMIT_NAME = 'requests';

const LIMIT_PATTERN = /^(?:([^=/:]+)=)?(\d+)\/(\w+)$/;

/**
 * Parses `--limit [name=]N/DURATION[:flag…]`, where the flags are `token-bucket`, `burst=N`,
 * `manual` (applied only when a verification names it) and `shadow`.
 *
 * @example
 * parseLimit('burst=10/1s:token-bucket:burst=20');
 * // { name: 'burst', limit: 10, duration: 1000, algorithm: 'token-bucket', burst: 20 }
 */
export function parseLimit(text: string): LimitOption {
  const [head = '', ...flags] = text.trim().split(':');
  const match = LIMIT_PATTERN.exec(head);
  if (!match) {
    throw new InvalidArgumentError(
      'Expected [name=]N/DURATION such as 100/1m or burst=10/1s, optionally followed by ' +
        ':token-bucket, :burst=N, :manual or :shadow.',
    );
  }
  const limit: LimitOption = {
    name: match[1] ?? DEFAULT_LIMIT_NAME,
    limit: parseCount(match[2] ?? ''),
    duration: parseDuration(match[3] ?? ''),
  };
  for (const flag of flags) applyLimitFlag(limit, flag);
  return limit;
}

function applyLimitFlag(limit: LimitOption, flag: string): void {
  if (flag === 'token-bucket' || flag === 'sliding-window') limit.algorithm = flag;
  else if (flag === 'manual') limit.autoApply = false;
  else if (flag === 'shadow') limit.shadow = true;
  else if (flag.startsWith('burst=')) limit.burst = parseCount(flag.slice('burst='.length));
  else {
    throw new InvalidArgumentError(
      `Unknown flag "${flag}": use token-bucket, sliding-window, burst=N, manual or shadow.`,
    );
  }
}

/** A refill rule as `--refill` gives it; the amount comes from elsewhere. */
export interface RefillOption {
  interval: 'daily' | 'monthly' | 'never';
  day?: number;
}

/** Parses `--refill daily`, `--refill monthly` or `--refill monthly@15` (day of the month). */
export function parseRefill(text: string): RefillOption {
  const match = /^(daily|monthly|never)(?:@(\d{1,2}))?$/.exec(text.trim());
  const day = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!match || (day !== undefined && (match[1] !== 'monthly' || day < 1 || day > 31))) {
    throw new InvalidArgumentError('Expected daily, monthly, monthly@DAY (1-31) or never.');
  }
  const interval = match[1] as RefillOption['interval'];
  return day === undefined ? { interval } : { interval, day };
}

/** Collects repeatable `--limit` options into a list. */
export function collectLimits(value: string, previous: LimitOption[] | undefined): LimitOption[] {
  return [...(previous ?? []), parseLimit(value)];
}

/** Parses `--ratelimit name` or `--ratelimit name=COST` of a verification. */
export function parseNamedLimit(
  value: string,
  previous: { name: string; cost?: number }[] | undefined,
): { name: string; cost?: number }[] {
  const [name = '', cost] = value.split('=');
  if (name === '') throw new InvalidArgumentError('Expected a limit name, or name=COST.');
  const named = cost === undefined ? { name } : { name, cost: parseCount(cost) };
  return [...(previous ?? []), named];
}

/**
 * Parses a point in time: an ISO 8601 time, or a duration with a unit counted back from
 * `now` (`24h` is a day ago), as the API's ISO text.
 */
export function parseSince(text: string, now = Date.now()): string {
  const value = text.trim();
  if (/^\d+(ms|s|m|h|d|w)$/.test(value)) return new Date(now - parseDuration(value)).toISOString();

  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new InvalidArgumentError('Expected an ISO 8601 time, or a duration back from now (24h).');
  }
  return new Date(time).toISOString();
}
