import { newId } from '../core/ids.ts';
import type { Clock } from '../core/time.ts';
import type { AuditEventRecord, AuditFilter, Store, StoreQueries } from '../store/types.ts';
import { type Actor, requirePermission } from './actor.ts';
import { type CursorPage, type ListOptions, toCursorPage, toPageRequest } from './pagination.ts';

/** The record an audit event is about. */
export interface AuditTarget {
  type: 'workspace' | 'root_key' | 'api' | 'key' | 'identity' | 'ratelimit_override';
  id: string;
}

/** Writes and reads the audit trail; writes join the transaction of the change they record. */
export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Records one mutation by `actor`; `changes` must never hold a secret or a hash. */
  async record(
    tx: StoreQueries,
    actor: Actor,
    action: string,
    target: AuditTarget,
    changes: Record<string, unknown> | null,
  ): Promise<void> {
    await tx.insertAuditEvent({
      id: newId('evt', this.clock()),
      workspaceId: actor.workspaceId,
      actorId: actor.rootKeyId,
      action,
      targetType: target.type,
      targetId: target.id,
      ip: actor.ip,
      userAgent: actor.userAgent,
      changes,
      createdAt: this.clock(),
    });
  }

  /** The workspace's events, newest first. */
  async list(
    actor: Actor,
    filter: AuditFilter,
    options: ListOptions,
  ): Promise<CursorPage<AuditEventRecord>> {
    requirePermission(actor, 'audit.read');

    const page = await this.store.listAuditEvents(
      actor.workspaceId,
      filter,
      toPageRequest(options),
    );
    return toCursorPage(page, (event) => event);
  }
}
