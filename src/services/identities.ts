import { newId } from '../core/ids.ts';
import type { Clock } from '../core/time.ts';
import type { CreditsConfig, IdentityRecord, RateLimitConfig, Store } from '../store/types.ts';
import { type Actor, requirePermission } from './actor.ts';
import type { AuditLog } from './audit.ts';
import { balanceCacheKey, type CreditBalances, type CreditsOperation } from './credits.ts';
import { KeygateError, notFound } from './errors.ts';
import { checkMeta, checkRateLimits } from './keys.ts';
import { type CursorPage, type ListOptions, toCursorPage, toPageRequest } from './pagination.ts';
import type { InvalidationChannel, RecordCache } from './record-cache.ts';

/** What an identity is created or updated with; `null` clears a field. */
export interface IdentitySettings {
  meta?: Record<string, unknown> | null | undefined;
  ratelimits?: RateLimitConfig[] | null | undefined;
  credits?: CreditsConfig | null | undefined;
}

export interface NewIdentity extends IdentitySettings {
  externalId: string;
}

/** The cache and channel key of an identity: one per workspace and external id. */
export function identityCacheKey(workspaceId: string, externalId: string): string {
  return `identity:${workspaceId}:${externalId}`;
}

/** Customers (identities) whose keys share meta, rate limits and credits. */
export class IdentityService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly balances: CreditBalances,
    private readonly clock: Clock,
    private readonly cache: RecordCache<IdentityRecord>,
    private readonly invalidations: InvalidationChannel,
  ) {}

  async create(actor: Actor, input: NewIdentity): Promise<IdentityRecord> {
    requirePermission(actor, 'identity.create');
    checkSettings(input);

    const created = await this.store.transaction(async (tx) => {
      if (await tx.getIdentity(actor.workspaceId, input.externalId)) throw exists(input.externalId);
      const now = this.clock();
      const creditBalanceId = input.credits
        ? await this.balances.create(tx, actor.workspaceId, input.credits)
        : null;
      const record = {
        id: newId('idt', now),
        workspaceId: actor.workspaceId,
        externalId: input.externalId,
        meta: input.meta ?? null,
        ratelimits: input.ratelimits ?? [],
        creditBalanceId,
        credits: null,
        createdAt: now,
        updatedAt: now,
      };
      await tx.insertIdentity(record);
      await this.audit.record(
        tx,
        actor,
        'identity.create',
        { type: 'identity', id: record.id },
        {
          externalId: input.externalId,
          meta: record.meta,
          ratelimits: record.ratelimits,
          credits: input.credits ?? null,
        },
      );
      return tx.getIdentity(actor.workspaceId, input.externalId);
    });
    return this.published(actor.workspaceId, created);
  }

  /** Reads one identity: 404 when absent, then 403 without `identity.<permission>`. */
  async get(actor: Actor, externalId: string, permission = 'read'): Promise<IdentityRecord> {
    const identity = await this.store.getIdentity(actor.workspaceId, externalId);
    if (!identity) throw notFound('identity', externalId);

    requirePermission(actor, `identity.${permission}`);
    return identity;
  }

  async list(actor: Actor, options: ListOptions): Promise<CursorPage<IdentityRecord>> {
    requirePermission(actor, 'identity.read');

    const page = await this.store.listIdentities(actor.workspaceId, toPageRequest(options));
    return toCursorPage(page, (identity) => identity);
  }

  async update(actor: Actor, externalId: string, patch: IdentitySettings): Promise<IdentityRecord> {
    const before = await this.get(actor, externalId, 'update');
    checkSettings(patch);

    const updated = await this.store.transaction(async (tx) => {
      const creditBalanceId = await this.balances.replace(
        tx,
        actor.workspaceId,
        before.creditBalanceId,
        patch.credits,
      );
      const changes = {
        ...(patch.meta !== undefined ? { meta: patch.meta } : {}),
        ...(patch.ratelimits !== undefined ? { ratelimits: patch.ratelimits ?? [] } : {}),
      };
      const result = await tx.updateIdentity(actor.workspaceId, externalId, {
        ...changes,
        creditBalanceId,
        updatedAt: this.clock(),
      });
      await this.audit.record(
        tx,
        actor,
        'identity.update',
        { type: 'identity', id: before.id },
        {
          ...changes,
          ...(patch.credits !== undefined ? { credits: patch.credits } : {}),
        },
      );
      return result;
    });
    if (patch.credits !== undefined) this.balanceChanged(before.creditBalanceId);
    return this.published(actor.workspaceId, updated);
  }

  /** Deletes an identity; its keys stay, and stop sharing its limits and credits. */
  async delete(actor: Actor, externalId: string): Promise<void> {
    const identity = await this.get(actor, externalId, 'delete');

    await this.store.transaction(async (tx) => {
      await tx.deleteIdentity(actor.workspaceId, externalId);
      await this.audit.record(
        tx,
        actor,
        'identity.delete',
        { type: 'identity', id: identity.id },
        {
          externalId,
        },
      );
    });
    this.invalidations.publish(identityCacheKey(actor.workspaceId, externalId));
  }

  /** Sets, adds to or takes from the identity's shared credits. */
  async adjustCredits(
    actor: Actor,
    externalId: string,
    op: CreditsOperation,
    value: number,
  ): Promise<IdentityRecord> {
    const identity = await this.get(actor, externalId, 'update');

    const updated = await this.store.transaction(async (tx) => {
      if (identity.creditBalanceId === null && op === 'set') {
        const creditBalanceId = await this.balances.create(tx, actor.workspaceId, {
          remaining: value,
        });
        await tx.updateIdentity(actor.workspaceId, externalId, {
          creditBalanceId,
          updatedAt: this.clock(),
        });
      } else {
        await this.balances.adjust(tx, actor.workspaceId, identity.creditBalanceId, op, value);
      }
      await this.audit.record(
        tx,
        actor,
        'identity.credits',
        { type: 'identity', id: identity.id },
        { op, value },
      );
      return tx.getIdentity(actor.workspaceId, externalId);
    });
    this.balanceChanged(identity.creditBalanceId);
    return this.published(actor.workspaceId, updated);
  }

  /** The identity as cached: `null` when known to be absent, `undefined` when not cached. */
  cached(workspaceId: string, externalId: string): IdentityRecord | null | undefined {
    return this.cache.get(identityCacheKey(workspaceId, externalId));
  }

  /** The identity a verification draws on, from the cache when it can. */
  async find(workspaceId: string, externalId: string): Promise<IdentityRecord | undefined> {
    const cacheKey = identityCacheKey(workspaceId, externalId);
    return this.cache.load(cacheKey, () => this.store.getIdentity(workspaceId, externalId));
  }

  private balanceChanged(balanceId: string | null): void {
    if (balanceId !== null) this.invalidations.publish(balanceCacheKey(balanceId));
  }

  private published(workspaceId: string, identity: IdentityRecord | undefined): IdentityRecord {
    if (!identity)
      throw new KeygateError('CONFLICT', 'the identity changed while it was written; retry');
    this.invalidations.publish(identityCacheKey(workspaceId, identity.externalId));
    return identity;
  }
}

function checkSettings(settings: IdentitySettings): void {
  checkMeta(settings.meta);
  checkRateLimits(settings.ratelimits);
}

function exists(externalId: string): KeygateError {
  return new KeygateError('CONFLICT', `an identity with externalId ${externalId} already exists`);
}
