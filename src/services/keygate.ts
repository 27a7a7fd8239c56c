import type { Pepper } from '../core/hashing.ts';
import { type Clock, systemClock } from '../core/time.ts';
import type { KeyRecord, RootKeyRecord, Store } from '../store/types.ts';
import { ApiService } from './apis.ts';
import { AuditLog } from './audit.ts';
import { KeyService } from './keys.ts';
import {
  type InvalidationChannel,
  LocalInvalidationChannel,
  RecordCache,
  type RecordCacheOptions,
} from './record-cache.ts';
import { RootKeyService } from './root-keys.ts';
import { VerifyService } from './verify.ts';
import { WorkspaceService } from './workspaces.ts';

export interface KeygateOptions {
  store: Store;
  pepper: Pepper;
  clock?: Clock;
  /** How every node hears of changed keys; this process alone by default. */
  invalidations?: InvalidationChannel;
  cache?: Partial<RecordCacheOptions>;
}

/** All of keygate's services, wired to one store. */
export interface Keygate {
  store: Store;
  audit: AuditLog;
  rootKeys: RootKeyService;
  workspaces: WorkspaceService;
  apis: ApiService;
  keys: KeyService;
  verifier: VerifyService;
  /** Stops listening for invalidations; the store is closed by whoever opened it. */
  close(): void;
}

export const DEFAULT_CACHE_OPTIONS: RecordCacheOptions = {
  maxEntries: 100_000,
  ttlMs: 60_000,
  missTtlMs: 10_000,
};

/** Builds the services over a store; the entry point chooses the store and the channel. */
export function createKeygate(options: KeygateOptions): Keygate {
  const { store, pepper } = options;
  const clock = options.clock ?? systemClock;
  const invalidations = options.invalidations ?? new LocalInvalidationChannel();
  const cacheOptions = { ...DEFAULT_CACHE_OPTIONS, ...options.cache };

  const audit = new AuditLog(store, clock);
  const rootKeyCache = new RecordCache<RootKeyRecord>(cacheOptions);
  const rootKeys = new RootKeyService(store, audit, pepper, clock, rootKeyCache, invalidations);
  const apis = new ApiService(store, audit, clock, invalidations);
  const verifier = new VerifyService(
    store,
    pepper,
    clock,
    new RecordCache<KeyRecord>(cacheOptions),
  );

  const unsubscribe = invalidations.subscribe((hash) => {
    rootKeyCache.delete(hash);
    verifier.invalidate(hash);
  });

  return {
    store,
    audit,
    rootKeys,
    workspaces: new WorkspaceService(store, audit, rootKeys, clock),
    apis,
    keys: new KeyService(store, apis, audit, pepper, clock, invalidations),
    verifier,
    close: unsubscribe,
  };
}
