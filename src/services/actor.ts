import { holdsPermission } from '../core/permissions.ts';
import { forbidden } from './errors.ts';

/** The authenticated caller of a `/v1` request: a root key of one workspace. */
export interface Actor {
  workspaceId: string;
  rootKeyId: string;
  permissions: readonly string[];
  ip: string | null;
  userAgent: string | null;
}

/** Throws a 403 unless the actor holds `permission`. */
export function requirePermission(actor: Actor, permission: string): void {
  if (!holdsPermission(actor.permissions, permission)) throw forbidden(permission);
}
