import { newId } from '../core/ids.ts';
import type { Clock } from '../core/time.ts';
import type { Store, WorkspaceRecord } from '../store/types.ts';
import { type Actor, requirePermission } from './actor.ts';
import type { AuditLog } from './audit.ts';
import type { RootKeyService } from './root-keys.ts';

/** Everything but `workspace.create`: what the first root key of a new workspace holds. */
export const NEW_WORKSPACE_PERMISSIONS = [
  'api.*',
  'root_key.*',
  'identity.*',
  'ratelimit.*',
  'usage.*',
  'audit.*',
];

/** The actor recorded for what keygate does by itself, such as the first start. */
export const SYSTEM_ACTOR_ID = 'system';

/** A workspace as just created, with its first root key shown this once. */
export interface CreatedWorkspace {
  workspace: WorkspaceRecord;
  rootKey: string;
}

/** What the first start did. */
export type BootstrapResult =
  | { kind: 'created'; rootKey: string; generated: boolean }
  | { kind: 'existing'; rootKeyKnown: boolean };

/** Creates tenants, and the first tenant on the first start. */
export class WorkspaceService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly rootKeys: RootKeyService,
    private readonly clock: Clock,
  ) {}

  /** Creates a workspace and its first root key. */
  async create(actor: Actor, name: string): Promise<CreatedWorkspace> {
    requirePermission(actor, 'workspace.create');

    return this.store.transaction(async (tx) => {
      const workspace = { id: newId('ws', this.clock()), name, createdAt: this.clock() };
      await tx.insertWorkspace(workspace);
      const created = await this.rootKeys.insert(tx, workspace.id, {
        name: 'initial',
        permissions: NEW_WORKSPACE_PERMISSIONS,
      });

      await this.audit.record(
        tx,
        actor,
        'workspace.create',
        { type: 'workspace', id: workspace.id },
        { name },
      );
      const inNewWorkspace = { ...actor, workspaceId: workspace.id };
      const rootKeyTarget = { type: 'root_key' as const, id: created.record.id };
      await this.audit.record(tx, inNewWorkspace, 'root_key.create', rootKeyTarget, {
        name: 'initial',
        permissions: NEW_WORKSPACE_PERMISSIONS,
      });
      return { workspace, rootKey: created.key };
    });
  }

  /**
   * On an empty store, creates the workspace `default` with a root key holding `*`: the given
   * secret, or a generated one.
   */
  async bootstrap(secret: string | undefined): Promise<BootstrapResult> {
    if ((await this.store.countWorkspaces()) > 0) {
      return { kind: 'existing', rootKeyKnown: secret ? await this.rootKeys.exists(secret) : true };
    }

    return this.store.transaction(async (tx) => {
      const workspace = { id: newId('ws', this.clock()), name: 'default', createdAt: this.clock() };
      await tx.insertWorkspace(workspace);
      const input = { name: 'bootstrap', permissions: ['*'] };
      const created = await this.rootKeys.insert(tx, workspace.id, input, secret);

      const system = {
        workspaceId: workspace.id,
        rootKeyId: SYSTEM_ACTOR_ID,
        permissions: [],
        ip: null,
        userAgent: null,
      };
      await this.audit.record(
        tx,
        system,
        'workspace.create',
        { type: 'workspace', id: workspace.id },
        {
          name: workspace.name,
        },
      );
      await this.audit.record(
        tx,
        system,
        'root_key.create',
        { type: 'root_key', id: created.record.id },
        {
          name: input.name,
          permissions: input.permissions,
        },
      );
      return { kind: 'created', rootKey: created.key, generated: secret === undefined };
    });
  }
}
