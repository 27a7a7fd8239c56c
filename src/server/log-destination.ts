import type { DestinationStream } from 'pino';
import { pino } from 'pino';

/** Lines past which a batch is written at once rather than at the end of the turn. */
const MAX_BATCH_LINES = 512;

/**
 * Standard output for log lines, written once per turn of the event loop: the lines logged
 * while the loop serves one batch of ready sockets go out in a single write, instead of one
 * system call per request. A quiet server still writes each line at once (the turn ends
 * straight away); a stop, or the process exiting, writes what is pending; `kill -9` can lose
 * the lines of the turn under way, never anything of the store.
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
      setImmediate(() => this.#writePending());
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
