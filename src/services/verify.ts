import { hashKey, type Pepper } from '../core/hashing.ts';
import { parseKey } from '../core/key-format.ts';
import {
  evaluatePermissionQuery,
  holdsPermission,
  type PermissionQuery,
  parsePermissionQuery,
} from '../core/permissions.ts';
import type { Clock } from '../core/time.ts';
import type { KeyRecord, Store } from '../store/types.ts';
import type { Actor } from './actor.ts';
import { KeygateError } from './errors.ts';
import type { RecordCache } from './record-cache.ts';

/** Every answer a verification can give, in the order the checks run. */
export const VERIFY_CODES = [
  'MALFORMED',
  'NOT_FOUND',
  'REVOKED',
  'DISABLED',
  'EXPIRED',
  'INSUFFICIENT_PERMISSIONS',
  'RATE_LIMITED',
  'USAGE_EXCEEDED',
  'VALID',
] as const;

export type VerifyCode = (typeof VERIFY_CODES)[number];

export interface VerifyRequest {
  key: string;
  apiId?: string | undefined;
  /** A permission query such as `a AND (b OR c)`. */
  permissions?: string | undefined;
  /** Named limits to apply besides the automatic ones; each must exist on the key. */
  ratelimits?: Array<{ name: string; cost?: number | undefined }> | undefined;
}

/** The outcome of a verification; `key` is present whenever the key was found. */
export interface VerifyOutcome {
  valid: boolean;
  code: VerifyCode;
  key?: KeyRecord;
}

/** Decides whether a presented API key may be used, without throwing for invalid keys. */
export class VerifyService {
  readonly #lookups = new Map<string, Lookup>();

  constructor(
    private readonly store: Store,
    private readonly pepper: Pepper,
    private readonly clock: Clock,
    private readonly cache: RecordCache<KeyRecord>,
  ) {}

  /** Verifies a key for a caller; a request that cannot be understood throws a 400. */
  async verify(actor: Actor, request: VerifyRequest): Promise<VerifyOutcome> {
    const query = request.permissions === undefined ? undefined : parseQuery(request.permissions);
    if (!parseKey(request.key)) return { valid: false, code: 'MALFORMED' };

    const key = await this.lookup(hashKey(this.pepper, request.key));
    if (!key || !this.visible(actor, key, request.apiId)) {
      return { valid: false, code: 'NOT_FOUND' };
    }
    requireNamedLimits(key, request.ratelimits);

    return { ...this.check(key, query), key };
  }

  private check(key: KeyRecord, query: PermissionQuery | undefined): Omit<VerifyOutcome, 'key'> {
    if (key.revokedAt !== null) return { valid: false, code: 'REVOKED' };
    if (!key.enabled) return { valid: false, code: 'DISABLED' };
    if (key.expiresAt !== null && key.expiresAt <= this.clock()) {
      return { valid: false, code: 'EXPIRED' };
    }
    if (query && !evaluatePermissionQuery(query, key.permissions)) {
      return { valid: false, code: 'INSUFFICIENT_PERMISSIONS' };
    }
    return { valid: true, code: 'VALID' };
  }

  /** A key of another workspace, of another API, or of an API the caller may not verify. */
  private visible(actor: Actor, key: KeyRecord, apiId: string | undefined): boolean {
    if (key.workspaceId !== actor.workspaceId) return false;
    if (apiId !== undefined && key.apiId !== apiId) return false;
    return holdsPermission(actor.permissions, `api.${key.apiId}.verify_key`);
  }

  /** Forgets what is known of the key under `hash`, including a store read still under way. */
  invalidate(hash: string): void {
    this.cache.delete(hash);

    const lookup = this.#lookups.get(hash);
    if (lookup) lookup.stale = true;
    this.#lookups.delete(hash);
  }

  /** The key stored under a hash, from the cache when it can; one store read per hash at once. */
  private async lookup(hash: string): Promise<KeyRecord | undefined> {
    const cached = this.cache.get(hash);
    if (cached !== undefined) return cached ?? undefined;

    let lookup = this.#lookups.get(hash);
    if (!lookup) {
      lookup = { record: this.store.findKeyByHash(hash), stale: false };
      this.#lookups.set(hash, lookup);
    }
    try {
      const key = await lookup.record;
      // A change committed while the read was under way may not be in what it returned.
      if (!lookup.stale) this.cache.set(hash, key);
      return key;
    } finally {
      if (this.#lookups.get(hash) === lookup) this.#lookups.delete(hash);
    }
  }
}

/** A store read in flight, shared by concurrent verifications of the same key. */
interface Lookup {
  record: Promise<KeyRecord | undefined>;
  stale: boolean;
}

/** A request may name only limits the key has; anything else is the caller's mistake. */
function requireNamedLimits(key: KeyRecord, named: VerifyRequest['ratelimits']): void {
  const unknown = named?.filter((limit) => !key.ratelimits.some((own) => own.name === limit.name));
  if (!unknown?.length) return;

  const names = unknown.map((limit) => `"${limit.name}"`).join(', ');
  throw new KeygateError('BAD_REQUEST', `ratelimits: the key has no rate limit named ${names}`, [
    { path: 'ratelimits', message: `the key has no rate limit named ${names}` },
  ]);
}

function parseQuery(text: string): PermissionQuery {
  const parsed = parsePermissionQuery(text);
  if (parsed.ok) return parsed.query;

  const { message } = parsed.error;
  throw new KeygateError('BAD_REQUEST', `permissions: ${message}`, [
    { path: 'permissions', message },
  ]);
}
