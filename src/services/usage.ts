import type { Clock } from '../core/time.ts';
import {
  type CodeCounts,
  VERIFY_CODES,
  type VerifyCode,
  zeroCounts,
} from '../core/verify-codes.ts';
import type { Store, UsageGranularity, UsageRank, UsageScope } from '../store/types.ts';
import { type Actor, requirePermission } from './actor.ts';
import { invalidField, KeygateError, notFound } from './errors.ts';
import { BUCKET_MS } from './usage-recorder.ts';

export type { CodeCounts };

/** The most buckets one usage answer holds. */
export const MAX_USAGE_BUCKETS = 1_500;
const DEFAULT_RANGE_MS = 24 * BUCKET_MS.hour;

/** Verify codes in the order usage shows them: the successes first, then each denial. */
export const USAGE_CODES: readonly VerifyCode[] = [
  'VALID',
  ...VERIFY_CODES.filter((code) => code !== 'VALID'),
];

/** How long each granularity's buckets are kept, in milliseconds. */
export type UsageRetention = Record<UsageGranularity, number>;

export const DEFAULT_USAGE_RETENTION: UsageRetention = {
  minute: 7 * BUCKET_MS.day,
  hour: 90 * BUCKET_MS.day,
  day: 730 * BUCKET_MS.day,
};

/** A range of buckets; absent bounds default to the last 24 hours, by the hour. */
export interface UsageRange {
  from?: number | undefined;
  to?: number | undefined;
  granularity?: UsageGranularity | undefined;
}

/** Which verifications to count: all of the workspace's, or those of one API, key or customer. */
export interface UsageFilter extends UsageRange {
  apiId?: string | undefined;
  keyId?: string | undefined;
  externalId?: string | undefined;
  tag?: string | undefined;
}

export interface UsageSeries {
  granularity: UsageGranularity;
  /** The first bucket's start. */
  from: number;
  /** The end of the range asked for; the last bucket is the one holding it. */
  to: number;
  series: { time: number; counts: CodeCounts }[];
  totals: CodeCounts;
}

/** What `top` ranks by: every verification, the denied ones, or those of one code. */
export type UsageMetric = 'verifications' | 'denials' | VerifyCode;

export interface UsageTopRequest extends UsageRange {
  by: 'key' | 'identity';
  metric?: UsageMetric | undefined;
  limit?: number | undefined;
}

export interface UsageTop {
  by: 'key' | 'identity';
  metric: UsageMetric;
  granularity: UsageGranularity;
  from: number;
  to: number;
  items: UsageRank[];
}

interface Buckets {
  granularity: UsageGranularity;
  from: number;
  to: number;
  /** Where the buckets end: the end of the bucket holding `to`. */
  end: number;
}

/** Answers how a workspace's keys were used, from the counts the recorder wrote. */
export class UsageService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly retention: UsageRetention = DEFAULT_USAGE_RETENTION,
  ) {}

  /** A series with a point for every bucket in the range, zeros included, and its totals. */
  async series(actor: Actor, filter: UsageFilter): Promise<UsageSeries> {
    requirePermission(actor, 'usage.read');
    const buckets = this.buckets(filter);
    const scope = await this.scope(actor, filter);

    const counts = await this.store.readUsage({
      ...scope,
      workspaceId: actor.workspaceId,
      granularity: buckets.granularity,
      from: buckets.from,
      to: buckets.end,
    });

    const size = BUCKET_MS[buckets.granularity];
    const series = [];
    for (let time = buckets.from; time < buckets.end; time += size) {
      series.push({ time, counts: zeroCounts() });
    }
    const totals = zeroCounts();
    for (const { bucket, counts: found } of counts) {
      const point = series[(bucket - buckets.from) / size];
      if (!point) continue;
      point.counts = found;
      for (const code of VERIFY_CODES) totals[code] += found[code];
    }
    return { granularity: buckets.granularity, from: buckets.from, to: buckets.to, series, totals };
  }

  /** The keys or identities with the most verifications of `metric` in the range. */
  async top(actor: Actor, request: UsageTopRequest): Promise<UsageTop> {
    requirePermission(actor, 'usage.read');
    const buckets = this.buckets(request);
    const metric = request.metric ?? 'verifications';

    const items = await this.store.rankUsage({
      workspaceId: actor.workspaceId,
      granularity: buckets.granularity,
      from: buckets.from,
      to: buckets.end,
      by: request.by,
      codes: codesOf(metric),
      limit: request.limit ?? 10,
    });
    const { granularity, from, to } = buckets;
    return { by: request.by, metric, granularity, from, to, items };
  }

  /** Deletes the buckets older than their granularity's retention; answers how many. */
  async prune(): Promise<number> {
    const now = this.clock();
    let pruned = 0;
    for (const [granularity, keptMs] of Object.entries(this.retention)) {
      pruned += await this.store.pruneUsage(granularity as UsageGranularity, now - keptMs);
    }
    return pruned;
  }

  /** The buckets of a range: `from` rounded down to its bucket, at most 1,500 of them. */
  private buckets(range: UsageRange): Buckets {
    const granularity = range.granularity ?? 'hour';
    const size = BUCKET_MS[granularity];
    const to = range.to ?? this.clock();
    const asked = range.from ?? to - DEFAULT_RANGE_MS;
    if (asked >= to) throw invalidField('query.from', 'must be earlier than to');

    const from = asked - (asked % size);
    const end = to - (to % size) + (to % size === 0 ? 0 : size);
    const count = (end - from) / size;
    if (count > MAX_USAGE_BUCKETS) {
      throw new KeygateError(
        'BAD_REQUEST',
        `the range holds ${count} ${granularity} buckets; ` +
          `at most ${MAX_USAGE_BUCKETS} fit in one answer`,
        [{ path: 'query.from', message: `is too far from to for granularity ${granularity}` }],
      );
    }
    return { granularity, from, to, end };
  }

  /** The series a filter names; its API or key must be the caller's workspace's. */
  private async scope(actor: Actor, filter: UsageFilter): Promise<UsageScope> {
    const scope = {
      apiId: filter.apiId ?? '',
      keyId: filter.keyId ?? '',
      externalId: filter.externalId ?? '',
      tag: filter.tag ?? '',
    };
    if (scope.keyId !== '' && (scope.apiId !== '' || scope.externalId !== '')) {
      throw new KeygateError(
        'BAD_REQUEST',
        'keyId cannot be combined with apiId or externalId: a key has one API and one customer',
        [{ path: 'query.keyId', message: 'cannot be combined with apiId or externalId' }],
      );
    }
    if (scope.keyId !== '' && !(await this.store.getKey(actor.workspaceId, scope.keyId))) {
      throw notFound('key', scope.keyId);
    }
    if (scope.apiId !== '' && !(await this.store.getApi(actor.workspaceId, scope.apiId))) {
      throw notFound('API', scope.apiId);
    }
    return scope;
  }
}

function codesOf(metric: UsageMetric): readonly VerifyCode[] {
  if (metric === 'verifications') return VERIFY_CODES;
  if (metric === 'denials') return VERIFY_CODES.filter((code) => code !== 'VALID');
  return [metric];
}
