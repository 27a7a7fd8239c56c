import { newId } from '../core/ids.ts';
import type { Clock } from '../core/time.ts';
import type { Counters, LimitResult } from '../counters/types.ts';
import type { RateLimitOverrideRecord, Store } from '../store/types.ts';
import { type Actor, requirePermission } from './actor.ts';
import type { AuditLog } from './audit.ts';
import { notFound } from './errors.ts';
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

/** The cache and channel key of a namespace's overrides. */
function overridesCacheKey(workspaceId: string, namespace: string): string {
  return `overrides:${workspaceId}:${namespace}`;
}

/** Limits anything by any identifier (logins, webhooks), with per-identifier overrides. */
export class RateLimitService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly counters: Counters,
    private readonly clock: Clock,
    private readonly cache: RecordCache<{ overrides: RateLimitOverrideRecord[] }>,
    private readonly invalidations: InvalidationChannel,
  ) {}

  /** Counts one call against `identifier`'s window in `namespace`. */
  async limit(actor: Actor, namespace: string, call: LimitCall): Promise<LimitAnswer> {
    requirePermission(actor, `ratelimit.${namespace}.limit`);

    const override = matchOverride(
      await this.overrides(actor.workspaceId, namespace),
      call.identifier,
    );
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
    this.invalidations.publish(overridesCacheKey(actor.workspaceId, namespace));
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
    this.invalidations.publish(overridesCacheKey(actor.workspaceId, namespace));
  }

  private async overrides(
    workspaceId: string,
    namespace: string,
  ): Promise<RateLimitOverrideRecord[]> {
    const cached = await this.cache.load(overridesCacheKey(workspaceId, namespace), async () => ({
      overrides: await this.store.listOverrides(workspaceId, namespace),
    }));
    return cached?.overrides ?? [];
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
