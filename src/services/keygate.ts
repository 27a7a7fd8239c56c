import type { Pepper } from '../core/hashing.ts';
import { type Clock, systemClock } from '../core/time.ts';
import type { Counters } from '../counters/types.ts';
import type {
  CreditBalanceRecord,
  IdentityRecord,
  KeyRecord,
  RateLimitOverrideRecord,
  RootKeyRecord,
  Store,
} from '../store/types.ts';
import { ApiService } from './apis.ts';
import { AuditLog } from './audit.ts';
import { CreditLedger } from './credit-ledger.ts';
import { CreditBalances } from './credits.ts';
import { IdentityService } from './identities.ts';
import { KeyService } from './keys.ts';
import { RateLimitService } from './ratelimits.ts';
import {
  type CacheStats,
  type InvalidationChannel,
  LocalInvalidationChannel,
  RecordCache,
  type RecordCacheOptions,
} from './record-cache.ts';
import { RootKeyService } from './root-keys.ts';
import { DEFAULT_USAGE_RETENTION, type UsageRetention, UsageService } from './usage.ts';
import {
  DEFAULT_USAGE_RECORDER_OPTIONS,
  UsageRecorder,
  type UsageRecorderOptions,
} from './usage-recorder.ts';
import { VerifyService } from './verify.ts';
import { WorkspaceService } from './workspaces.ts';

export interface KeygateOptions {
  store: Store;
  /** Hot rate-limit state: in memory for one node, shared for many. */
  counters: Counters;
  pepper: Pepper;
  clock?: Clock;
  /** How every node hears of changed records; this process alone by default. */
  invalidations?: InvalidationChannel;
  cache?: Partial<RecordCacheOptions>;
  usage?: Partial<UsageRecorderOptions> & { retention?: Partial<UsageRetention> };
  /** Told of every usage write that failed; its counts are kept for the next one. */
  onUsageWriteError?: (error: unknown) => void;
}

/** All of keygate's services, wired to one store and one set of counters. */
export interface Keygate {
  /** The time every service reads. */
  clock: Clock;
  store: Store;
  counters: Counters;
  audit: AuditLog;
  rootKeys: RootKeyService;
  workspaces: WorkspaceService;
  apis: ApiService;
  keys: KeyService;
  identities: IdentityService;
  ratelimits: RateLimitService;
  verifier: VerifyService;
  usage: UsageService;
  /** Counts verifications and writes them behind. */
  usageRecorder: UsageRecorder;
  /** How each record cache has done since start, by what it holds. */
  cacheStats(): Record<string, CacheStats>;
  /**
   * Commits every credit charge taken, writes the usage counted and stops listening; backends
   * are closed by their opener.
   */
  close(): Promise<void>;
}

export const DEFAULT_CACHE_OPTIONS: RecordCacheOptions = {
  maxEntries: 100_000,
  ttlMs: 60_000,
  missTtlMs: 10_000,
};

/** Builds the services over the backends the entry point chose. */
export function createKeygate(options: KeygateOptions): Keygate {
  const { store, counters, pepper } = options;
  const clock = options.clock ?? systemClock;
  const invalidations = options.invalidations ?? new LocalInvalidationChannel();
  const cacheOptions = { ...DEFAULT_CACHE_OPTIONS, ...options.cache };
  // Records change only through a mutation, which invalidates them at once, so their TTL (the
  // bound on what another node's change can leave stale) runs on the wall clock. A balance is
  // also spent by time: its cache expires on the services' clock, as its refills do.
  const caches = {
    rootKeys: new RecordCache<RootKeyRecord>(cacheOptions),
    keys: new RecordCache<KeyRecord>(cacheOptions),
    identities: new RecordCache<IdentityRecord>(cacheOptions),
    balances: new RecordCache<CreditBalanceRecord>(cacheOptions, clock),
    overrides: new RecordCache<RateLimitOverrideRecord>(cacheOptions),
    overridePatterns: new RecordCache<{ patterns: RateLimitOverrideRecord[] }>(cacheOptions),
  };
  const unsubscribe = invalidations.subscribe((key) => {
    for (const cache of Object.values(caches)) cache.delete(key);
  });

  const usageRecorder = new UsageRecorder(
    store,
    { ...DEFAULT_USAGE_RECORDER_OPTIONS, ...options.usage },
    options.onUsageWriteError,
  );
  const audit = new AuditLog(store, clock);
  const balances = new CreditBalances(clock);
  const ledger = new CreditLedger(store);
  const rootKeys = new RootKeyService(store, audit, pepper, clock, caches.rootKeys, invalidations);
  const apis = new ApiService(store, audit, clock, invalidations);
  const identities = new IdentityService(
    store,
    audit,
    balances,
    clock,
    caches.identities,
    invalidations,
  );
  const verifier = new VerifyService({
    store,
    pepper,
    clock,
    cache: caches.keys,
    balances: caches.balances,
    identities,
    counters,
    ledger,
    usage: usageRecorder,
  });

  return {
    clock,
    store,
    counters,
    audit,
    rootKeys,
    workspaces: new WorkspaceService(store, audit, rootKeys, clock),
    apis,
    keys: new KeyService(store, apis, audit, pepper, clock, invalidations, balances, usageRecorder),
    identities,
    ratelimits: new RateLimitService(store, audit, counters, clock, invalidations, {
      exact: caches.overrides,
      patterns: caches.overridePatterns,
    }),
    verifier,
    usage: new UsageService(store, clock, {
      ...DEFAULT_USAGE_RETENTION,
      ...options.usage?.retention,
    }),
    usageRecorder,
    cacheStats: () =>
      Object.fromEntries(Object.entries(caches).map(([name, cache]) => [name, cache.stats])),
    async close() {
      await ledger.drain();
      await usageRecorder.close();
      unsubscribe();
    },
  };
}
