import { hashKey, type Pepper } from '../core/hashing.ts';
import { newId } from '../core/ids.ts';
import { generateKey, isValidPrefix, keyStart } from '../core/key-format.ts';
import type { Clock } from '../core/time.ts';
import type {
  CreditsConfig,
  KeyFilter,
  KeyPatch,
  KeyRecord,
  RateLimitConfig,
  Store,
} from '../store/types.ts';
import { type Actor, requirePermission } from './actor.ts';
import type { ApiService } from './apis.ts';
import { invalidPrefix } from './apis.ts';
import type { AuditLog } from './audit.ts';
import { balanceCacheKey, type CreditBalances, type CreditsOperation } from './credits.ts';
import { invalidField, KeygateError, notFound } from './errors.ts';
import { type CursorPage, type ListOptions, toCursorPage, toPageRequest } from './pagination.ts';
import type { InvalidationChannel } from './record-cache.ts';
import type { UsageRecorder } from './usage-recorder.ts';

/** The largest `meta` accepted, measured as JSON text. */
export const MAX_META_BYTES = 16 * 1024;
/** The deepest nesting of objects and arrays accepted in `meta`. */
export const MAX_META_DEPTH = 128;
/** The longest grace period a roll may give the old key: 30 days. */
export const MAX_GRACE_PERIOD_MS = 30 * 24 * 60 * 60 * 1000;

/** The settings of a key that create and update accept; `null` clears a field. */
export type KeySettings = Omit<
  KeyPatch,
  'updatedAt' | 'lastUsedAt' | 'revokedAt' | 'creditBalanceId'
> & {
  credits?: CreditsConfig | null | undefined;
};

export interface NewKey extends KeySettings {
  /** Overrides the API's prefix for this key. */
  prefix?: string | undefined;
}

/** A key as just created or rolled: the record and, this once, its secret. */
export interface CreatedKey {
  record: KeyRecord;
  key: string;
}

/** Creates, reads, changes, revokes and rolls the keys of an API. */
export class KeyService {
  constructor(
    private readonly store: Store,
    private readonly apis: ApiService,
    private readonly audit: AuditLog,
    private readonly pepper: Pepper,
    private readonly clock: Clock,
    private readonly invalidations: InvalidationChannel,
    private readonly balances: CreditBalances,
    private readonly usage: UsageRecorder,
  ) {}

  async create(actor: Actor, apiId: string, input: NewKey): Promise<CreatedKey> {
    const api = await this.apis.get(actor, apiId, 'create_key');
    const prefix = input.prefix ?? api.prefix;
    if (!isValidPrefix(prefix)) throw invalidPrefix();
    this.checkSettings(input);

    const secret = generateKey(prefix);
    const record = this.newRecord(secret, { workspaceId: actor.workspaceId, apiId }, input);
    await this.store.transaction(async (tx) => {
      if (input.credits)
        record.creditBalanceId = await this.balances.create(tx, actor.workspaceId, input.credits);
      await tx.insertKey(record);
      await this.audit.record(
        tx,
        actor,
        'key.create',
        { type: 'key', id: record.id },
        {
          apiId,
          ...describeSettings(record),
        },
      );
    });
    return { record, key: secret };
  }

  async list(
    actor: Actor,
    apiId: string,
    filter: KeyFilter,
    options: ListOptions,
  ): Promise<CursorPage<KeyRecord>> {
    await this.apis.get(actor, apiId, 'read_key');

    const page = await this.store.listKeys(
      actor.workspaceId,
      apiId,
      filter,
      toPageRequest(options),
    );
    return toCursorPage(page, (key) => this.withLatestUse(key));
  }

  /** Reads one key: 404 when absent, then 403 without `api.<apiId>.<permission>`. */
  async get(actor: Actor, id: string, permission = 'read_key'): Promise<KeyRecord> {
    const key = await this.store.getKey(actor.workspaceId, id);
    if (!key) throw notFound('key', id);

    requirePermission(actor, `api.${key.apiId}.${permission}`);
    return this.withLatestUse(key);
  }

  /** The key with `lastUsedAt` from verifications counted here and not yet written, if later. */
  private withLatestUse(key: KeyRecord): KeyRecord {
    const pending = this.usage.pendingLastUse(key.id);
    if (pending === undefined || (key.lastUsedAt ?? 0) >= pending) return key;
    return { ...key, lastUsedAt: pending };
  }

  async update(actor: Actor, id: string, patch: KeySettings): Promise<KeyRecord> {
    const before = await this.get(actor, id, 'update_key');
    this.checkSettings(patch);
    const changes = diff(settingsOf(before), patch);
    if (Object.keys(changes).length === 0) return before;

    const { credits, ...fields } = patch;
    const after = await this.store.transaction(async (tx) => {
      const balance = await this.balances.replace(
        tx,
        actor.workspaceId,
        before.creditBalanceId,
        credits,
      );
      const updated = await tx.updateKey(actor.workspaceId, id, {
        ...fields,
        ...(credits === undefined ? {} : { creditBalanceId: balance }),
        updatedAt: this.clock(),
      });
      if (!updated) throw notFound('key', id);
      await this.audit.record(tx, actor, 'key.update', { type: 'key', id }, changes);
      return updated;
    });
    this.invalidations.publish(after.hash);
    if (credits !== undefined && before.creditBalanceId !== null) {
      this.invalidations.publish(balanceCacheKey(before.creditBalanceId));
    }
    return after;
  }

  /** Revokes a key: it is kept, and verifies as `REVOKED` from now on. */
  async revoke(actor: Actor, id: string): Promise<KeyRecord> {
    const key = await this.get(actor, id, 'delete_key');
    if (key.revokedAt !== null) return key;

    const revoked = await this.store.transaction(async (tx) => {
      const now = this.clock();
      const updated = await tx.updateKey(actor.workspaceId, id, { revokedAt: now, updatedAt: now });
      if (!updated) throw notFound('key', id);
      await this.audit.record(tx, actor, 'key.revoke', { type: 'key', id }, null);
      return updated;
    });
    this.invalidations.publish(revoked.hash);
    return revoked;
  }

  /** Erases a key: from now on it is 404, and verifies as `NOT_FOUND`. */
  async erase(actor: Actor, id: string): Promise<void> {
    const key = await this.get(actor, id, 'delete_key');

    await this.store.transaction(async (tx) => {
      await tx.deleteKey(actor.workspaceId, id);
      await this.audit.record(tx, actor, 'key.delete', { type: 'key', id }, { apiId: key.apiId });
    });
    this.invalidations.publish(key.hash);
  }

  /**
   * Issues a new secret with the same settings; the old key stays valid for the grace period
   * (or its own expiry, if sooner) and then expires.
   */
  async roll(actor: Actor, id: string, gracePeriodMs: number): Promise<CreatedKey> {
    const old = await this.get(actor, id, 'update_key');
    if (old.revokedAt !== null) throw new KeygateError('CONFLICT', `key ${id} is revoked`);
    if (gracePeriodMs > MAX_GRACE_PERIOD_MS) {
      throw invalidField('gracePeriodMs', `must be at most ${MAX_GRACE_PERIOD_MS} (30 days)`);
    }

    const now = this.clock();
    const oldExpiresAt = Math.min(old.expiresAt ?? Number.POSITIVE_INFINITY, now + gracePeriodMs);
    const secret = generateKey(prefixOf(old.start));
    // The new key draws on the old one's credits and rate-limit windows: one balance, one lineage.
    const record = {
      ...this.newRecord(secret, old, old),
      rolledFrom: old.id,
      lineageId: old.lineageId,
      creditBalanceId: old.creditBalanceId,
      credits: old.credits,
    };

    await this.store.transaction(async (tx) => {
      await tx.insertKey(record);
      await tx.updateKey(actor.workspaceId, id, { expiresAt: oldExpiresAt, updatedAt: now });
      await this.audit.record(
        tx,
        actor,
        'key.roll',
        { type: 'key', id },
        {
          newKeyId: record.id,
          gracePeriodMs,
          expiresAt: { from: isoTime(old.expiresAt), to: isoTime(oldExpiresAt) },
        },
      );
    });
    this.invalidations.publish(old.hash);
    return { record, key: secret };
  }

  private newRecord(
    secret: string,
    owner: Pick<KeyRecord, 'workspaceId' | 'apiId'>,
    settings: KeySettings,
  ): KeyRecord {
    const now = this.clock();
    const id = newId('key', now);
    return {
      id,
      lineageId: id,
      creditBalanceId: null,
      workspaceId: owner.workspaceId,
      apiId: owner.apiId,
      hash: hashKey(this.pepper, secret),
      pepperVersion: this.pepper.version,
      start: keyStart({
        prefix: prefixOf(secret),
        random: secret.slice(secret.lastIndexOf('_') + 1),
      }),
      name: settings.name ?? null,
      externalId: settings.externalId ?? null,
      meta: settings.meta ?? null,
      permissions: settings.permissions ?? [],
      enabled: settings.enabled ?? true,
      expiresAt: settings.expiresAt ?? null,
      credits: settings.credits ? { ...settings.credits, refilledAt: now } : null,
      ratelimits: settings.ratelimits ?? [],
      createdAt: now,
      updatedAt: now,
      lastUsedAt: null,
      revokedAt: null,
      rolledFrom: null,
    };
  }

  /** Sets, adds to or takes from the key's credits (shared with keys rolled from it). */
  async adjustCredits(
    actor: Actor,
    id: string,
    op: CreditsOperation,
    value: number,
  ): Promise<KeyRecord> {
    const key = await this.get(actor, id, 'update_key');

    const updated = await this.store.transaction(async (tx) => {
      if (key.creditBalanceId === null && op === 'set') {
        const creditBalanceId = await this.balances.create(tx, actor.workspaceId, {
          remaining: value,
        });
        await tx.updateKey(actor.workspaceId, id, { creditBalanceId, updatedAt: this.clock() });
      } else {
        await this.balances.adjust(tx, actor.workspaceId, key.creditBalanceId, op, value);
      }
      await this.audit.record(tx, actor, 'key.credits', { type: 'key', id }, { op, value });
      return tx.getKey(actor.workspaceId, id);
    });
    if (!updated) throw notFound('key', id);
    this.invalidations.publish(key.hash);
    if (key.creditBalanceId !== null) {
      this.invalidations.publish(balanceCacheKey(key.creditBalanceId));
    }
    return updated;
  }

  /** Rules that the request's shape cannot express. */
  private checkSettings(settings: KeySettings): void {
    checkMeta(settings.meta);
    if (typeof settings.expiresAt === 'number' && settings.expiresAt <= this.clock()) {
      throw invalidField('expiresAt', 'must be in the future');
    }
    checkRateLimits(settings.ratelimits);
  }
}

/** `meta` may nest at most MAX_META_DEPTH levels and take at most MAX_META_BYTES as JSON. */
export function checkMeta(meta: Record<string, unknown> | null | undefined): void {
  if (!meta) return;
  if (nestingExceeds(meta, MAX_META_DEPTH)) {
    throw invalidField('meta', `must nest at most ${MAX_META_DEPTH} levels deep`);
  }
  if (Buffer.byteLength(JSON.stringify(meta)) > MAX_META_BYTES) {
    throw invalidField('meta', `must be at most ${MAX_META_BYTES} bytes as JSON`);
  }
}

/**
 * Rate limits of one owner must have distinct names, and a token bucket's capacity times its
 * duration must be an exact number: the bucket counts tokens scaled by the duration.
 */
export function checkRateLimits(limits: readonly RateLimitConfig[] | null | undefined): void {
  const names = limits?.map((limit) => limit.name) ?? [];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) {
    throw invalidField('ratelimits', `names the limit "${repeated}" more than once`);
  }
  for (const [index, limit] of (limits ?? []).entries()) {
    if (limit.algorithm !== 'token-bucket') continue;
    const capacity = limit.burst ?? limit.limit;
    if (capacity * limit.duration > Number.MAX_SAFE_INTEGER) {
      const field = limit.burst === undefined ? 'limit' : 'burst';
      throw invalidField(
        `ratelimits[${index}].${field}`,
        `times duration must be at most ${Number.MAX_SAFE_INTEGER} for a token bucket`,
      );
    }
  }
}

/**
 * Whether a JSON value nests deeper than `limit`; walks without recursion, so depth cannot
 * overflow the stack.
 */
function nestingExceeds(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

/** The prefix of a key or of a key's `start`: everything before the last `_`. */
function prefixOf(keyOrStart: string): string {
  return keyOrStart.slice(0, keyOrStart.lastIndexOf('_'));
}

/** What the audit trail keeps of a new key's settings: everything but secrets and hashes. */
function describeSettings(key: KeyRecord): Record<string, unknown> {
  const { name, externalId, meta, permissions, enabled, credits, ratelimits } = settingsOf(key);
  return {
    name,
    externalId,
    meta,
    permissions,
    enabled,
    expiresAt: isoTime(key.expiresAt),
    credits,
    ratelimits,
  };
}

/** A key's settings as create and update take them: credits without their refill time. */
function settingsOf(key: KeyRecord): Required<KeySettings> {
  const { name, externalId, meta, permissions, enabled, expiresAt, ratelimits } = key;
  const credits = key.credits && withoutRefillTime(key.credits);
  return { name, externalId, meta, permissions, enabled, expiresAt, ratelimits, credits };
}

function withoutRefillTime({ remaining, refill }: CreditsConfig): CreditsConfig {
  return refill ? { remaining, refill } : { remaining };
}

/** The fields a patch changes, as `{ field: { from, to } }`, times as ISO 8601. */
function diff(before: Required<KeySettings>, patch: KeySettings): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const from = before[field as keyof KeySettings];
    if (JSON.stringify(from) === JSON.stringify(value)) continue;
    changes[field] =
      field === 'expiresAt'
        ? { from: isoTime(before.expiresAt), to: isoTime(value as number | null) }
        : { from, to: value };
  }
  return changes;
}

function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
