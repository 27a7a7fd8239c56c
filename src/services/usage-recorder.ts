import type { VerifyCode } from '../core/verify-codes.ts';
import type {
  KeyRecord,
  KeyUse,
  Store,
  UsageGranularity,
  UsageIncrement,
  UsageScope,
} from '../store/types.ts';

/** One verification, as usage counts it. */
export interface VerificationUse {
  workspaceId: string;
  /** The found key's API, or the API the request named; `undefined` when neither. */
  apiId: string | undefined;
  keyId: string | undefined;
  externalId: string | null | undefined;
  code: VerifyCode;
  tags: readonly string[] | undefined;
  /** When it was verified, in milliseconds since the epoch. */
  at: number;
}

export interface UsageRecorderOptions {
  /** Counting on or off; off, `record` does nothing and `lastUsedAt` stays as it is. */
  enabled: boolean;
  /** How often the counts gathered are written. */
  flushIntervalMs: number;
  /** How many verifications gathered start a write at once, whatever the interval. */
  flushEvents: number;
}

export const DEFAULT_USAGE_RECORDER_OPTIONS: UsageRecorderOptions = {
  enabled: true,
  flushIntervalMs: 1_000,
  flushEvents: 2_000,
};

/** The size of each granularity's buckets; days and hours start on UTC boundaries. */
export const BUCKET_MS: Record<UsageGranularity, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};
const GRANULARITIES = Object.keys(BUCKET_MS) as UsageGranularity[];

/** Verifications of one minute that count in the same series, gathered before a write. */
interface Gathered {
  use: VerificationUse;
  minute: number;
  count: number;
}

/**
 * One key's untagged verifications of one minute, by verify code: the common case, counted
 * without building a string per verification. Its first verification's workspace, API and
 * customer stand for all of them; one that differs starts a new tally.
 */
interface KeyTally {
  use: VerificationUse;
  /** The key record counted; another record of the same key may name another API or customer. */
  record: KeyRecord;
  minute: number;
  counts: Map<VerifyCode, number>;
  lastAt: number;
}

/** How the writing behind stands, for metrics. */
export interface UsageBacklog {
  /** Verifications counted in memory and not yet written. */
  events: number;
  /** When the oldest of them was counted; `undefined` when there are none. */
  oldestAt: number | undefined;
  /** Writes that failed since start; their counts were kept for the next one. */
  failedWrites: number;
}

/**
 * Counts verifications in memory and writes them behind, off the verify path: every
 * `flushIntervalMs`, or at once when `flushEvents` are waiting. One write is one transaction
 * that adds each minute's counts to its minute, hour and day buckets in every series the
 * verification belongs to, and moves the keys' `lastUsedAt` forward. A failed write keeps its
 * counts for the next one. `close` writes what is left, so a clean stop loses nothing; a
 * crash loses what was gathered since the last write, at most one interval.
 */
export class UsageRecorder {
  #tallies = new Map<string, KeyTally>();
  #gathered = new Map<string, Gathered>();
  #lastUses = new Map<string, number>();
  #events = 0;
  #oldestAt: number | undefined;
  #failedWrites = 0;
  #writing: Promise<void> | undefined;
  /** A write is asked for because enough verifications wait; one ask is enough. */
  #flushSoon = false;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly options: UsageRecorderOptions,
    private readonly onWriteError: (error: unknown) => void = () => {},
  ) {
    if (options.enabled) {
      this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Counts one verification; cheap, and never waits for the store. */
  record(use: VerificationUse): void {
    if (!this.options.enabled) return;

    this.#gather(use, use.at - (use.at % BUCKET_MS.minute), 1);
    this.#noteUse(use.keyId, use.at);
    this.#counted(use.at);
  }

  /**
   * Counts one untagged verification of a found key: what most verifications are, so it is
   * counted against the key's tally without building anything per call.
   */
  recordKey(workspaceId: string, key: KeyRecord, code: VerifyCode, at: number): void {
    if (!this.options.enabled) return;

    const minute = at - (at % BUCKET_MS.minute);
    let tally = this.#tallies.get(key.id);
    if (tally !== undefined && !fits(tally, workspaceId, key, minute)) {
      this.#retire(tally);
      tally = undefined;
    }
    if (tally === undefined) {
      const { apiId, id: keyId, externalId } = key;
      const use = { workspaceId, apiId, keyId, externalId, code, tags: undefined, at };
      tally = { use, record: key, minute, counts: new Map(), lastAt: at };
      this.#tallies.set(key.id, tally);
    }
    tally.counts.set(code, (tally.counts.get(code) ?? 0) + 1);
    if (at > tally.lastAt) tally.lastAt = at;
    this.#counted(at);
  }

  #counted(at: number): void {
    this.#oldestAt ??= at;
    this.#events += 1;
    if (this.#events >= this.options.flushEvents && !this.#flushSoon) {
      this.#flushSoon = true;
      void this.flush();
    }
  }

  /** When the key was last verified by this node and that is not written yet. */
  pendingLastUse(keyId: string): number | undefined {
    const tallied = this.#tallies.get(keyId)?.lastAt;
    const gathered = this.#lastUses.get(keyId);
    if (tallied === undefined || gathered === undefined) return tallied ?? gathered;
    return Math.max(tallied, gathered);
  }

  get backlog(): UsageBacklog {
    return { events: this.#events, oldestAt: this.#oldestAt, failedWrites: this.#failedWrites };
  }

  /** Writes everything gathered so far; resolves once it is written or the write failed. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
    if (this.#events === 0 && this.#lastUses.size === 0) return;

    this.#writing = this.#write();
    try {
      await this.#writing;
    } finally {
      this.#writing = undefined;
    }
  }

  /** Stops the timer and writes what is left; throws when that last write fails. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
    if (this.#events > 0) throw new Error('usage counts could not be written on close');
  }

  async #write(): Promise<void> {
    this.#flushSoon = false;
    for (const tally of this.#tallies.values()) this.#retire(tally);
    this.#tallies = new Map();
    const gathered = [...this.#gathered.values()];
    const uses: KeyUse[] = [...this.#lastUses].map(([keyId, at]) => ({ keyId, at }));
    const taken = { events: this.#events, oldestAt: this.#oldestAt };
    this.#gathered = new Map();
    this.#lastUses = new Map();
    this.#events = 0;
    this.#oldestAt = undefined;

    try {
      const increments = toIncrements(gathered);
      await this.store.transaction(async (tx) => {
        await tx.addUsage(increments);
        await tx.recordKeyUses(uses);
      });
    } catch (error) {
      this.#failedWrites += 1;
      this.#putBack(gathered, uses, taken);
      this.onWriteError(error);
    }
  }

  /** Returns a failed write's counts to what the next write takes. */
  #putBack(
    gathered: readonly Gathered[],
    uses: readonly KeyUse[],
    taken: { events: number; oldestAt: number | undefined },
  ): void {
    for (const { use, minute, count } of gathered) this.#gather(use, minute, count);
    for (const { keyId, at } of uses) this.#noteUse(keyId, at);
    this.#events += taken.events;
    if (taken.oldestAt !== undefined) {
      this.#oldestAt = Math.min(this.#oldestAt ?? taken.oldestAt, taken.oldestAt);
    }
  }

  #gather(use: VerificationUse, minute: number, count: number): void {
    const tags = use.tags === undefined || use.tags.length === 0 ? '' : use.tags.join('\u0001');
    const key = `${minute}\u0000${use.workspaceId}\u0000${use.apiId ?? ''}\u0000${
      use.keyId ?? ''
    }\u0000${use.externalId ?? ''}\u0000${use.code}\u0000${tags}`;
    const gathered = this.#gathered.get(key);
    if (gathered) gathered.count += count;
    else this.#gathered.set(key, { use, minute, count });
  }

  /** Moves a tally's counts to what the next write takes. */
  #retire(tally: KeyTally): void {
    for (const [code, count] of tally.counts)
      this.#gather({ ...tally.use, code }, tally.minute, count);
    this.#noteUse(tally.use.keyId, tally.lastAt);
  }

  #noteUse(keyId: string | undefined, at: number): void {
    if (keyId !== undefined && (this.#lastUses.get(keyId) ?? 0) < at) this.#lastUses.set(keyId, at);
  }
}

/** Whether a verification of `key` in `minute` counts where the tally's do. */
function fits(tally: KeyTally, workspaceId: string, key: KeyRecord, minute: number): boolean {
  if (tally.minute !== minute) return false;
  if (tally.record === key) return true;

  const { use } = tally;
  return (
    use.workspaceId === workspaceId && use.apiId === key.apiId && use.externalId === key.externalId
  );
}

/** Every bucket of every series that the gathered verifications count in, summed. */
function toIncrements(gathered: readonly Gathered[]): UsageIncrement[] {
  const increments = new Map<string, UsageIncrement>();
  for (const { use, minute, count } of gathered) {
    const { code } = use;
    for (const scope of scopesOf(use)) {
      for (const granularity of GRANULARITIES) {
        const bucket = minute - (minute % BUCKET_MS[granularity]);
        const fields = [granularity, bucket, scope.apiId, scope.keyId, scope.externalId, scope.tag];
        const id = `${use.workspaceId}\u0000${fields.join('\u0000')}`;
        let increment = increments.get(id);
        if (!increment) {
          increment = { ...scope, workspaceId: use.workspaceId, granularity, bucket, counts: {} };
          increments.set(id, increment);
        }
        increment.counts[code] = (increment.counts[code] ?? 0) + count;
      }
    }
  }
  return [...increments.values()];
}

/**
 * The series a verification counts in: everything, its API, its key, its customer, and its
 * customer on its API, each untagged and once per distinct tag.
 */
function scopesOf(use: VerificationUse): UsageScope[] {
  const api = use.apiId ?? '';
  const externalId = use.externalId ?? '';
  const subjects: Omit<UsageScope, 'tag'>[] = [{ apiId: '', keyId: '', externalId: '' }];
  if (api !== '') subjects.push({ apiId: api, keyId: '', externalId: '' });
  if (use.keyId !== undefined) subjects.push({ apiId: '', keyId: use.keyId, externalId: '' });
  if (externalId !== '') subjects.push({ apiId: '', keyId: '', externalId });
  if (api !== '' && externalId !== '') subjects.push({ apiId: api, keyId: '', externalId });

  const tags = ['', ...new Set(use.tags ?? [])];
  return subjects.flatMap((subject) => tags.map((tag) => ({ ...subject, tag })));
}
