import { LRUCache } from 'lru-cache';

/** Tells every node's caches that the record stored under a hash has changed. */
export interface InvalidationChannel {
  publish(hash: string): void;
  subscribe(listener: (hash: string) => void): () => void;
}

/** An invalidation channel that reaches the caches of this process only. */
export class LocalInvalidationChannel implements InvalidationChannel {
  readonly #listeners = new Set<(hash: string) => void>();

  publish(hash: string): void {
    for (const listener of this.#listeners) listener(hash);
  }

  subscribe(listener: (hash: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export interface RecordCacheOptions {
  /** The most records kept; the least recently used go first. */
  maxEntries: number;
  /** How long a found record is trusted without asking the store again. */
  ttlMs: number;
  /** How long "no such record" is remembered, so guessed keys do not reach the store. */
  missTtlMs: number;
}

const ABSENT = Symbol('absent');

/** How a cache has done since start; a remembered "no such record" counts as a hit. */
export interface CacheStats {
  hits: number;
  misses: number;
  size: number;
}

/**
 * A bounded in-process cache of records by the hash of their secret. `get` answers the record,
 * `null` when the store is known to hold none, or `undefined` when the store must be asked.
 */
export class RecordCache<V extends object> {
  readonly #entries: LRUCache<string, V | typeof ABSENT>;
  readonly #missTtlMs: number;
  readonly #loads = new Map<string, Load<V>>();
  #hits = 0;
  #misses = 0;

  /**
   * TTLs run on the wall clock, or on `clock` when one is given: the services' clock, for a
   * cache whose expiry must agree with theirs to the millisecond (credit balances), at the cost
   * of reading that clock on every lookup.
   */
  constructor(options: RecordCacheOptions, clock?: () => number) {
    const exactClock = clock ? { perf: { now: clock }, ttlResolution: 0 } : {};
    this.#entries = new LRUCache({ max: options.maxEntries, ttl: options.ttlMs, ...exactClock });
    this.#missTtlMs = options.missTtlMs;
  }

  get(hash: string): V | null | undefined {
    const entry = this.#entries.get(hash);
    if (entry === undefined) this.#misses += 1;
    else this.#hits += 1;
    return entry === ABSENT ? null : entry;
  }

  /** Lookups answered from the cache and lookups that had to ask the store, since start. */
  get stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size };
  }

  set(hash: string, record: V | undefined): void {
    if (record) this.#entries.set(hash, record);
    else this.#entries.set(hash, ABSENT, { ttl: this.#missTtlMs });
  }

  /** Forgets an entry, including what a load still under way would have put there. */
  delete(hash: string): void {
    this.#entries.delete(hash);

    const load = this.#loads.get(hash);
    if (load) load.stale = true;
    this.#loads.delete(hash);
  }

  /**
   * The cached record, or what `loader` finds, which is then cached. Concurrent misses of one
   * entry share one load; a load that a `delete` overtook is answered but not cached, since a
   * change committed while it ran may not be in what it read.
   */
  async load(hash: string, loader: () => Promise<V | undefined>): Promise<V | undefined> {
    const cached = this.get(hash);
    if (cached !== undefined) return cached ?? undefined;

    let load = this.#loads.get(hash);
    if (!load) {
      load = { record: loader(), stale: false };
      this.#loads.set(hash, load);
    }
    try {
      const record = await load.record;
      if (!load.stale) this.set(hash, record);
      return record;
    } finally {
      if (this.#loads.get(hash) === load) this.#loads.delete(hash);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** A store read in flight, shared by everyone who missed the same entry meanwhile. */
interface Load<V> {
  record: Promise<V | undefined>;
  stale: boolean;
}
