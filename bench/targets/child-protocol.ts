/** The child side of the bench's IPC: announce readiness, report CPU, and stop with the parent. */

/** Sends a message to the orchestrator. */
export function tellParent(message: { kind: string; [field: string]: unknown }): void {
  process.send?.(message);
}

/**
 * Answers every `cpu-usage` message with this process's CPU time so far, in microseconds, so
 * the orchestrator can tell the CPU a run cost apart from how long it took.
 */
export function reportCpuUsage(): void {
  process.on('message', (message: { kind?: string }) => {
    if (message.kind !== 'cpu-usage') return;
    const { user, system } = process.cpuUsage();
    tellParent({ kind: 'cpu', user, system });
  });
}

/**
 * Runs `stop` and exits on SIGTERM or SIGINT, or when the orchestrator goes away (its IPC
 * channel closes), so that no child outlives the bench.
 */
export function stopWithParent(stop: () => Promise<void> | void): void {
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    Promise.resolve()
      .then(stop)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`${String(error)}\n`);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.once('disconnect', shutdown);
}
