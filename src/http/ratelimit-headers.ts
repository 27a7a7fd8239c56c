import type { FastifyReply } from 'fastify';

/** How one limit stands, as the headers describe it. */
export interface LimitStanding {
  name: string;
  limit: number;
  duration: number;
  remaining: number;
  resetAt: number;
}

export interface RateLimitHeaderOptions {
  /** The request was denied: add `Retry-After`. */
  denied: boolean;
  /** Add the legacy `X-RateLimit-Limit`, `-Remaining` and `-Reset` fields too. */
  legacy: boolean;
  now: number;
}

/**
 * Writes the IETF httpapi draft fields (`RateLimit-Policy: "name";q=100;w=60` and
 * `RateLimit: "name";r=42;t=17`), `Retry-After` on denial, and on request the legacy fields,
 * which describe the limit closest to running out.
 */
export function writeRateLimitHeaders(
  reply: FastifyReply,
  limits: readonly LimitStanding[],
  options: RateLimitHeaderOptions,
): void {
  if (limits.length === 0) return;

  const seconds = (limit: LimitStanding) =>
    Math.max(0, Math.ceil((limit.resetAt - options.now) / 1000));
  reply.header(
    'RateLimit-Policy',
    limits.map((l) => `${quote(l.name)};q=${l.limit};w=${Math.ceil(l.duration / 1000)}`).join(', '),
  );
  reply.header(
    'RateLimit',
    limits.map((l) => `${quote(l.name)};r=${l.remaining};t=${seconds(l)}`).join(', '),
  );

  const tightest = limits.reduce((a, b) => (b.remaining < a.remaining ? b : a));
  if (options.denied) reply.header('Retry-After', String(Math.max(1, seconds(tightest))));
  if (options.legacy) {
    reply.header('X-RateLimit-Limit', String(tightest.limit));
    reply.header('X-RateLimit-Remaining', String(tightest.remaining));
    reply.header('X-RateLimit-Reset', String(Math.ceil(tightest.resetAt / 1000)));
  }
}

/** A structured-field string: quotes and backslashes escaped, anything unprintable dropped. */
function quote(name: string): string {
  return `"${name.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '\\$&')}"`;
}
