import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Keygate } from '../services/keygate.ts';
import { VERIFY_CODES, type VerifyCode } from '../services/verify.ts';

/** Seconds; a cached verification takes microseconds, one that reads the store milliseconds. */
const VERIFY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25];
const STORE_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5];

/**
 * keygate's Prometheus metrics, all named `keygate_*`, in a registry of their own. No label
 * ever holds a key, a key id or any other value a caller chooses: routes are templates,
 * codes and operations come from fixed lists.
 */
export class KeygateMetrics {
  readonly registry = new Registry();
  /**
   * Counts kept as plain numbers and handed to prom-client at each scrape: its own `inc` builds
   * a label key per call, which costs a cached verification a tenth of its time.
   */
  readonly #byCode = new Map<string, number>(VERIFY_CODES.map((code) => [code, 0]));
  readonly #byRequest = new Map<
    string,
    { method: string; route: string; status: number; count: number }
  >();
  readonly #verifyDuration = new Histogram({
    name: 'keygate_verify_duration_seconds',
    help: 'Time to decide a verification, from the parsed request to the outcome',
    buckets: VERIFY_BUCKETS,
    registers: [this.registry],
  });
  /** Store calls by operation; fed by `instrumentStore` where the store is built. */
  readonly storeDuration = new Histogram({
    name: 'keygate_store_duration_seconds',
    help: 'Time the store took to answer, by operation',
    labelNames: ['operation'],
    buckets: STORE_BUCKETS,
    registers: [this.registry],
  });
  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'keygate_' });
    const byCode = this.#byCode;
    const byRequest = this.#byRequest;
    new Counter({
      name: 'keygate_verifications_total',
      help: 'Verifications answered, by verify code',
      labelNames: ['code'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [code, count] of byCode) this.inc({ code }, count);
      },
    });
    new Counter({
      name: 'keygate_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { method, route, status, count } of byRequest.values()) {
          this.inc({ method, route, status }, count);
        }
      },
    });
  }

  /** Counts one verification and how long it took. */
  verified(code: VerifyCode, seconds: number): void {
    this.#byCode.set(code, (this.#byCode.get(code) ?? 0) + 1);
    this.#verifyDuration.observe(seconds);
  }

  /** Counts one answered request; `route` is a template, so the kinds of request stay few. */
  answered(method: string, route: string, status: number): void {
    const id = `${method} ${route} ${status}`;
    const known = this.#byRequest.get(id);
    if (known) known.count += 1;
    else this.#byRequest.set(id, { method, route, status, count: 1 });
  }

  /** Reads keygate's caches and write-behind queue at every scrape. */
  observe(keygate: Keygate): void {
    const stats = () => Object.entries(keygate.cacheStats());
    new Counter({
      name: 'keygate_cache_hits_total',
      help: 'Record lookups answered from the in-process cache, by cache',
      labelNames: ['cache'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [cache, { hits }] of stats()) this.inc({ cache }, hits);
      },
    });
    new Counter({
      name: 'keygate_cache_misses_total',
      help: 'Record lookups that had to ask the store, by cache',
      labelNames: ['cache'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [cache, { misses }] of stats()) this.inc({ cache }, misses);
      },
    });
    new Gauge({
      name: 'keygate_cache_entries',
      help: 'Records held in the in-process cache, by cache',
      labelNames: ['cache'],
      registers: [this.registry],
      collect() {
        for (const [cache, { size }] of stats()) this.set({ cache }, size);
      },
    });
    this.#observeUsage(keygate);
  }

  #observeUsage(keygate: Keygate): void {
    const backlog = () => keygate.usageRecorder.backlog;
    new Gauge({
      name: 'keygate_usage_pending_events',
      help: 'Verifications counted in memory and not yet written to the store',
      registers: [this.registry],
      collect() {
        this.set(backlog().events);
      },
    });
    new Gauge({
      name: 'keygate_usage_lag_seconds',
      help: 'Age of the oldest verification counted and not yet written; 0 when none waits',
      registers: [this.registry],
      collect() {
        const { oldestAt } = backlog();
        this.set(oldestAt === undefined ? 0 : Math.max(0, keygate.clock() - oldestAt) / 1000);
      },
    });
    new Counter({
      name: 'keygate_usage_write_failures_total',
      help: 'Usage writes that failed; their counts were kept for the next write',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(backlog().failedWrites);
      },
    });
  }
}
