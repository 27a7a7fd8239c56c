/** An entry that may be dropped once `idleAt` has passed. */
export interface IdleEntry {
  readonly key: string;
  idleAt: number;
}

/**
 * A map whose entries go once idle: callers sweep a few entries on each use, so memory follows
 * the entries in use without a timer, and never walk the whole map on a hot path.
 */
export class IdleMap<E extends IdleEntry> {
  readonly #entries = new Map<string, E>();
  /** The same entries in a list, which the sweep walks round by index without allocating. */
  readonly #sweepList: E[] = [];
  #sweepAt = 0;

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): E | undefined {
    return this.#entries.get(key);
  }

  /** Adds an entry whose key is not held yet. */
  add(entry: E): void {
    this.#entries.set(entry.key, entry);
    this.#sweepList.push(entry);
  }

  /** Looks at up to `count` entries, going round the list, and drops the idle ones. */
  dropSomeIdle(now: number, count: number): void {
    for (let looked = 0; looked < count; looked += 1) {
      if (this.#sweepAt >= this.#sweepList.length) this.#sweepAt = 0;
      if (!this.#dropIfIdle(this.#sweepAt, now)) this.#sweepAt += 1;
    }
  }

  /** Drops every entry idle at `now` and answers how many. */
  dropIdle(now: number): number {
    const before = this.#entries.size;
    for (let place = this.#sweepList.length - 1; place >= 0; place -= 1) {
      this.#dropIfIdle(place, now);
    }
    return before - this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
    this.#sweepList.length = 0;
  }

  /** Drops the entry at `place` in the sweep list if it is idle; the last one takes its place. */
  #dropIfIdle(place: number, now: number): boolean {
    const entry = this.#sweepList[place];
    if (entry === undefined || entry.idleAt > now) return false;

    this.#entries.delete(entry.key);
    const last = this.#sweepList.pop();
    if (last !== undefined && last !== entry) this.#sweepList[place] = last;
    return true;
  }
}
