import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type LabelValues,
  Registry,
} from 'prom-client';
import type { Keygate } from '../services/keygate.ts';
import { VERIFY_CODES, type VerifyCode } from '../services/verify.ts';

/** Seconds; a cached verification takes microseconds, one that reads the store milliseconds. */
const VERIFY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25];
const STORE_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5];

/** A metric's name and help. */
interface MetricInfo {
  name: string;
  help: string;
}

/** Values by labels, as a metric reads them at a scrape. */
type Readings = Iterable<[labels: LabelValues<string>, value: number]>;

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
  readonly #byRequest = new Map<string, { labels: LabelValues<string>; count: number }>();
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
    this.#counter(
      { name: 'keygate_verifications_total', help: 'Verifications answered, by verify code' },
      ['code'],
      () => [...this.#byCode].map(([code, count]) => [{ code }, count]),
    );
    this.#counter(
      {
        name: 'keygate_http_requests_total',
        help: 'HTTP requests answered, by method, route template and status',
      },
      ['method', 'route', 'status'],
      () => [...this.#byRequest.values()].map(({ labels, count }) => [labels, count]),
    );
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
    else this.#byRequest.set(id, { labels: { method, route, status }, count: 1 });
  }

  /** Reads keygate's caches and write-behind queue at every scrape. */
  observe(keygate: Keygate): void {
    const caches = (field: 'hits' | 'misses' | 'size') => (): Readings =>
      Object.entries(keygate.cacheStats()).map(([cache, stats]) => [{ cache }, stats[field]]);
    const hits = 'Record lookups answered from the in-process cache, by cache';
    this.#counter({ name: 'keygate_cache_hits_total', help: hits }, ['cache'], caches('hits'));
    const misses = 'Record lookups that had to ask the store, by cache';
    this.#counter(
      { name: 'keygate_cache_misses_total', help: misses },
      ['cache'],
      caches('misses'),
    );
    const entries = 'Records held in the in-process cache, by cache';
    this.#gauge({ name: 'keygate_cache_entries', help: entries }, ['cache'], caches('size'));

    const backlog = () => keygate.usageRecorder.backlog;
    const pending = 'Verifications counted in memory and not yet written to the store';
    this.#gauge({ name: 'keygate_usage_pending_events', help: pending }, [], () => [
      [{}, backlog().events],
    ]);
    const lag = 'Age of the oldest verification counted and not yet written; 0 when none waits';
    this.#gauge({ name: 'keygate_usage_lag_seconds', help: lag }, [], () => {
      const { oldestAt } = backlog();
      return [[{}, oldestAt === undefined ? 0 : Math.max(0, keygate.clock() - oldestAt) / 1000]];
    });
    const failures = 'Usage writes that failed; their counts were kept for the next write';
    this.#counter({ name: 'keygate_usage_write_failures_total', help: failures }, [], () => [
      [{}, backlog().failedWrites],
    ]);
  }

  /** A counter whose totals are kept elsewhere and read at each scrape. */
  #counter(info: MetricInfo, labelNames: string[], read: () => Readings): void {
    new Counter({
      ...info,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  }

  /** A gauge read at each scrape. */
  #gauge(info: MetricInfo, labelNames: string[], read: () => Readings): void {
    new Gauge({
      ...info,
      labelNames,
      registers: [this.registry],
      collect() {
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }
}
