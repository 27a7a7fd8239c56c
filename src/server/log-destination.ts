import type { DestinationStream } from 'pino';
import { pino } from 'pino';

/** Lines past which a batch is written at once rather than when its time is up. */
const MAX_BATCH_LINES = 1_000;
/** How long a line may wait for others to share its write. */
const MAX_WAIT_MS = 20;

/**
 * Standard output for log lines, written in batches: the lines of up to 20 ms go out in one
 * write, instead of one system call per request. A stop, or the process exiting, writes what
 * is pending; `kill -9` can lose the last 20 ms of log lines, never anything of the store.
 */
export class LogDestination implements DestinationStream {
  readonly #out = pino.destination({ dest: 1, sync: true });
  #lines: string[] = [];
  #scheduled = false;
  readonly #flushOnExit = () => this.flushSync();

  constructor() {
    process.once('exit', this.#flushOnExit);
  }

  write(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length >= MAX_BATCH_LINES) this.#writePending();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => this.#writePending(), MAX_WAIT_MS).unref();
    }
  }

  /** Writes every pending line before returning. */
  flushSync(): void {
    this.#writePending();
    this.#out.flushSync();
  }

  /** Writes the pending lines and stops flushing on exit; for a server that has stopped. */
  close(): void {
    this.flushSync();
    process.removeListener('exit', this.#flushOnExit);
  }

  #writePending(): void {
    this.#scheduled = false;
    if (this.#lines.length === 0) return;

    const text = this.#lines.length === 1 ? (this.#lines[0] as string) : this.#lines.join('');
    this.#lines = [];
    this.#out.write(text);
  }
}
