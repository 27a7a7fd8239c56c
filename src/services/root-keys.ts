import { LRUCache } from 'lru-cache';
import { hashKey, type Pepper } from '../core/hashing.ts';
import { newId } from '../core/ids.ts';
import { generateKey, keyStart, parseKey } from '../core/key-format.ts';
import { canGrant } from '../core/permissions.ts';
import type { Soon } from '../core/soon.ts';
import type { Clock } from '../core/time.ts';
import type { RootKeyRecord, Store, StoreQueries } from '../store/types.ts';
import { type Actor, requirePermission } from './actor.ts';
import type { AuditLog } from './audit.ts';
import { KeygateError, notFound } from './errors.ts';
import { type CursorPage, type ListOptions, toCursorPage, toPageRequest } from './pagination.ts';
import type { InvalidationChannel, RecordCache } from './record-cache.ts';

/** The prefix of every generated root key. */
export const ROOT_KEY_PREFIX = 'kg_root';
/** A bearer longer than this cannot be a root key and is refused without hashing it. */
const MAX_BEARER_LENGTH = 512;

/** Where a request came from, for the audit trail. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

export interface NewRootKey {
  name: string;
  permissions: string[];
}

/** A root key as just created: the record and, this once, its secret. */
export interface CreatedRootKey {
  record: RootKeyRecord;
  key: string;
}

/** How many bearers keep their hash in memory, so that a repeat caller is not hashed again. */
const REMEMBERED_BEARERS = 1_000;

/** Authenticates `/v1` callers and manages the root keys of a workspace. */
export class RootKeyService {
  /**
   * The hash of each recent bearer. A hit saves the HMAC only: the record is still looked up
   * by hash in the record cache, which every change invalidates, so a deleted root key stops
   * authenticating at once.
   */
  readonly #hashes = new LRUCache<string, string>({ max: REMEMBERED_BEARERS });

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly pepper: Pepper,
    private readonly clock: Clock,
    private readonly cache: RecordCache<RootKeyRecord>,
    private readonly invalidations: InvalidationChannel,
  ) {}

  /**
   * The actor behind a bearer token, or `undefined` when it is no root key; known at once when
   * the root key is cached.
   */
  authenticate(bearer: string, origin: RequestOrigin): Soon<Actor | undefined> {
    if (bearer.length === 0 || bearer.length > MAX_BEARER_LENGTH) return undefined;

    const hash = this.#hashes.get(bearer) ?? hashKey(this.pepper, bearer);
    const cached = this.cache.get(hash);
    if (cached !== undefined) return this.actorOf(bearer, hash, cached ?? undefined, origin);

    return this.cache
      .load(hash, () => this.store.findRootKeyByHash(hash))
      .then((record) => this.actorOf(bearer, hash, record, origin));
  }

  private actorOf(
    bearer: string,
    hash: string,
    record: RootKeyRecord | undefined,
    origin: RequestOrigin,
  ): Actor | undefined {
    if (!record) return undefined;
    // Only bearers that are root keys are remembered, so guesses cannot crowd them out.
    this.#hashes.set(bearer, hash);

    return {
      workspaceId: record.workspaceId,
      rootKeyId: record.id,
      permissions: record.permissions,
      ...origin,
    };
  }

  /** Creates a root key holding no more than the actor holds. */
  async create(actor: Actor, input: NewRootKey): Promise<CreatedRootKey> {
    requirePermission(actor, 'root_key.create');
    const excess = input.permissions.filter((p) => !canGrant(actor.permissions, p));
    if (excess.length > 0) {
      throw new KeygateError(
        'FORBIDDEN',
        `a root key can grant only permissions it holds; it lacks ${excess.join(', ')}`,
      );
    }

    return this.store.transaction(async (tx) => {
      const created = await this.insert(tx, actor.workspaceId, input);
      await this.audit.record(
        tx,
        actor,
        'root_key.create',
        { type: 'root_key', id: created.record.id },
        {
          name: input.name,
          permissions: input.permissions,
        },
      );
      return created;
    });
  }

  /** Writes a new root key; `secret` defaults to a generated `kg_root_…` key. */
  async insert(
    tx: StoreQueries,
    workspaceId: string,
    input: NewRootKey,
    secret = generateKey(ROOT_KEY_PREFIX),
  ): Promise<CreatedRootKey> {
    const parsed = parseKey(secret);
    const record: RootKeyRecord = {
      id: newId('root', this.clock()),
      workspaceId,
      name: input.name,
      hash: hashKey(this.pepper, secret),
      pepperVersion: this.pepper.version,
      start: parsed ? keyStart(parsed) : `${secret.slice(0, 4)}…`,
      permissions: input.permissions,
      createdAt: this.clock(),
    };
    await tx.insertRootKey(record);
    return { record, key: secret };
  }

  /** Whether a root key with this secret exists. */
  async exists(secret: string): Promise<boolean> {
    return (await this.store.findRootKeyByHash(hashKey(this.pepper, secret))) !== undefined;
  }

  async list(actor: Actor, options: ListOptions): Promise<CursorPage<RootKeyRecord>> {
    requirePermission(actor, 'root_key.read');

    const page = await this.store.listRootKeys(actor.workspaceId, toPageRequest(options));
    return toCursorPage(page, (record) => record);
  }

  /** Deletes a root key; it stops authenticating on every node at once. */
  async delete(actor: Actor, id: string): Promise<void> {
    const existing = await this.store.getRootKey(actor.workspaceId, id);
    if (!existing) throw notFound('root key', id);
    requirePermission(actor, 'root_key.delete');

    await this.store.transaction(async (tx) => {
      await tx.deleteRootKey(actor.workspaceId, id);
      await this.audit.record(
        tx,
        actor,
        'root_key.delete',
        { type: 'root_key', id },
        {
          name: existing.name,
        },
      );
    });
    this.invalidations.publish(existing.hash);
  }
}
