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
