import { newId } from '../core/ids.ts';
import type { Clock } from '../core/time.ts';
import type { Counters, LimitResult } from '../counters/types.ts';
import type { RateLimitOverrideRecord, Store } from '../store/types.ts';
import { type Actor, requirePermission } from './actor.ts';
import type { AuditLog } from './audit.ts';
import { KeygateError, notFound } from './errors.ts';
import type { InvalidationChannel, RecordCache } from './record-cache.ts';

/** What the caller of the standalone limiter asks for. */
export interface LimitCall {
  identifier: string;
  limit: number;
  duration: number;
  cost?: number | undefined;
}

/** The standalone limiter's answer. */
export interface LimitAnswer {
  success: boolean;
  limit: number;
  duration: number;
  remaining: number;
  resetAt: number;
  /** The override that set the limit, if one did. */
  overrideId: string | null;
}

export interface OverrideSettings {
  limit: number;
  duration: number;
}

/** The most `*` patterns one namespace may hold: each limit call is matched against them all. */
export const MAX_OVERRIDE_PATTERNS = 1000;

/** The caches of overrides: one per identifier, and one list of patterns per namespace. */
export interface OverrideCaches {
  exact: RecordCache<RateLimitOverrideRecord>;
  patterns: RecordCache<{ patterns: RateLimitOverrideRecord[] }>;
}

function exactCacheKey(workspaceId: string, namespace: string, identifier: string): string {
  return `override:${workspaceId}:${namespace}:${identifier}`;
}

function patternsCacheKey(workspaceId: string, namespace: string): string {
  return `override-patterns:${workspaceId}:${namespace}`;
}

/** Limits anything by any identifier (logins, webhooks), with per-identifier overrides. */
export class RateLimitService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly counters: Counters,
    private readonly clock: Clock,
    private readonly invalidations: InvalidationChannel,
    private readonly caches: OverrideCaches,
  ) {}

  /** Counts one call against `identifier`'s window in `namespace`. */
  async limit(actor: Actor, namespace: string, call: LimitCall): Promise<LimitAnswer> {
    requirePermission(actor, `ratelimit.${namespace}.limit`);

    const override = await this.overrideFor(actor.workspaceId, namespace, call.identifier);
    const limit = override?.limit ?? call.limit;
    const duration = override?.duration ?? call.duration;
    const now = this.clock();
    const overrideId = override?.id ?? null;
    if (limit === 0)
      return { success: false, limit, duration, remaining: 0, resetAt: now + duration, overrideId };

    const result = await this.counters.consume({
      now,
      limits: [
        {
          key: `r:${actor.workspaceId}:${namespace}:${call.identifier}`,
          name: namespace,
          config: { limit, duration },
          cost: call.cost ?? 1,
          shadow: false,
        },
      ],
    });
    const standing = result.limits[0] as LimitResult;
    return {
      success: result.allowed,
      limit,
      duration,
      remaining: standing.remaining,
      resetAt: standing.resetAt,
      overrideId,
    };
  }

  async putOverride(
    actor: Actor,
    namespace: string,
    identifier: string,
    settings: OverrideSettings,
  ) {
    requirePermission(actor, `ratelimit.${namespace}.set_override`);

    const now = this.clock();
    if (identifier.includes('*'))
      await this.checkRoomForPattern(actor.workspaceId, namespace, identifier);
    const stored = await this.store.transaction(async (tx) => {
      const record = await tx.putOverride({
        id: newId('rlo', now),
        workspaceId: actor.workspaceId,
        namespace,
        identifier,
        ...settings,
        createdAt: now,
        updatedAt: now,
      });
      await this.audit.record(
        tx,
        actor,
        'ratelimit.set_override',
        { type: 'ratelimit_override', id: record.id },
        {
          namespace,
          identifier,
          ...settings,
        },
      );
      return record;
    });
    this.published(actor.workspaceId, namespace, identifier);
    return stored;
  }

  async getOverride(actor: Actor, namespace: string, identifier: string) {
    const override = await this.store.getOverride(actor.workspaceId, namespace, identifier);
    if (!override) throw notFound('override', `${namespace}/${identifier}`);

    requirePermission(actor, `ratelimit.${namespace}.read_override`);
    return override;
  }

  async deleteOverride(actor: Actor, namespace: string, identifier: string): Promise<void> {
    const existing = await this.store.getOverride(actor.workspaceId, namespace, identifier);
    if (!existing) throw notFound('override', `${namespace}/${identifier}`);
    requirePermission(actor, `ratelimit.${namespace}.delete_override`);

    await this.store.transaction(async (tx) => {
      await tx.deleteOverride(actor.workspaceId, namespace, identifier);
      await this.audit.record(
        tx,
        actor,
        'ratelimit.delete_override',
        { type: 'ratelimit_override', id: existing.id },
        {
          namespace,
          identifier,
        },
      );
    });
    this.published(actor.workspaceId, namespace, identifier);
  }

  /** The override that sets an identifier's limit: its own, else the longest matching pattern. */
  private async overrideFor(workspaceId: string, namespace: string, identifier: string) {
    const exact = await this.caches.exact.load(
      exactCacheKey(workspaceId, namespace, identifier),
      () => this.store.getOverride(workspaceId, namespace, identifier),
    );
    if (exact) return exact;

    return matchOverride(await this.patterns(workspaceId, namespace), identifier);
  }

  private async patterns(workspaceId: string, namespace: string) {
    const cached = await this.caches.patterns.load(
      patternsCacheKey(workspaceId, namespace),
      async () => ({ patterns: await this.store.listOverridePatterns(workspaceId, namespace) }),
    );
    return cached?.patterns ?? [];
  }

  private async checkRoomForPattern(
    workspaceId: string,
    namespace: string,
    identifier: string,
  ): Promise<void> {
    const patterns = await this.store.listOverridePatterns(workspaceId, namespace);
    if (patterns.length < MAX_OVERRIDE_PATTERNS) return;
    if (patterns.some((pattern) => pattern.identifier === identifier)) return;

    throw new KeygateError(
      'CONFLICT',
      `namespace ${namespace} holds ${MAX_OVERRIDE_PATTERNS} patterns already, the most it may`,
    );
  }

  private published(workspaceId: string, namespace: string, identifier: string): void {
    this.invalidations.publish(exactCacheKey(workspaceId, namespace, identifier));
    if (identifier.includes('*')) {
      this.invalidations.publish(patternsCacheKey(workspaceId, namespace));
    }
  }
}

/**
 * The override for an identifier: an exact one first, else the longest matching pattern, where
 * `*` stands for any run of characters.
 */
export function matchOverride(
  overrides: readonly RateLimitOverrideRecord[],
  identifier: string,
): RateLimitOverrideRecord | undefined {
  const exact = overrides.find((o) => o.identifier === identifier);
  if (exact) return exact;

  let best: RateLimitOverrideRecord | undefined;
  for (const override of overrides) {
    if (!override.identifier.includes('*') || !globMatches(override.identifier, identifier))
      continue;
    if (!best || override.identifier.length > best.identifier.length) best = override;
  }
  return best;
}

/** Whether `text` matches `pattern`, where `*` stands for any run; linear, so no pattern can stall it. */
function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
