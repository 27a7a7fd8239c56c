import { newId } from '../core/ids.ts';
import { isValidPrefix } from '../core/key-format.ts';
import { holdsPermission } from '../core/permissions.ts';
import type { Clock } from '../core/time.ts';
import type { ApiRecord, Store } from '../store/types.ts';
import { type Actor, requirePermission } from './actor.ts';
import type { AuditLog } from './audit.ts';
import { invalidField, notFound } from './errors.ts';
import { type CursorPage, type ListOptions, toCursorPage, toPageRequest } from './pagination.ts';
import type { InvalidationChannel } from './record-cache.ts';

/** The key prefix of an API that names none. */
export const DEFAULT_KEY_PREFIX = 'kg';

export interface NewApi {
  name: string;
  prefix?: string | undefined;
}

/** Creates, reads and deletes the APIs (keyspaces) of a workspace. */
export class ApiService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly invalidations: InvalidationChannel,
  ) {}

  async create(actor: Actor, input: NewApi): Promise<ApiRecord> {
    requirePermission(actor, 'api.*.create_api');
    const prefix = input.prefix ?? DEFAULT_KEY_PREFIX;
    if (!isValidPrefix(prefix)) throw invalidPrefix();

    const api = {
      id: newId('api', this.clock()),
      workspaceId: actor.workspaceId,
      name: input.name,
      prefix,
      createdAt: this.clock(),
    };
    await this.store.transaction(async (tx) => {
      await tx.insertApi(api);
      await this.audit.record(
        tx,
        actor,
        'api.create',
        { type: 'api', id: api.id },
        {
          name: api.name,
          prefix,
        },
      );
    });
    return api;
  }

  /** Lists the APIs the actor may read. */
  async list(actor: Actor, options: ListOptions): Promise<CursorPage<ApiRecord>> {
    const page = await this.store.listApis(actor.workspaceId, toPageRequest(options));
    const readable = page.items.filter((api) =>
      holdsPermission(actor.permissions, `api.${api.id}.read_api`),
    );
    return toCursorPage({ ...page, items: readable }, (api) => api);
  }

  /** Reads one API: 404 when absent, then 403 without `api.<id>.<permission>`. */
  async get(actor: Actor, id: string, permission = 'read_api'): Promise<ApiRecord> {
    const api = await this.store.getApi(actor.workspaceId, id);
    if (!api) throw notFound('API', id);

    requirePermission(actor, `api.${id}.${permission}`);
    return api;
  }

  /** Deletes an API with all its keys; they stop verifying on every node at once. */
  async delete(actor: Actor, id: string): Promise<void> {
    const api = await this.get(actor, id, 'delete_api');

    const hashes = await this.store.transaction(async (tx) => {
      const deleted = (await tx.deleteApi(actor.workspaceId, id)) ?? [];
      await this.audit.record(
        tx,
        actor,
        'api.delete',
        { type: 'api', id },
        {
          name: api.name,
          keysDeleted: deleted.length,
        },
      );
      return deleted;
    });
    for (const hash of hashes) this.invalidations.publish(hash);
  }
}

/** The 400 for a prefix that cannot start a key. */
export function invalidPrefix() {
  return invalidField(
    'prefix',
    'must be 1–20 characters of a-z, 0-9 and _, start with a letter and not end with _',
  );
}
