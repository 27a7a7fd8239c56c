/**
 * The child side of the bench's IPC: announce readiness, report CPU time, profile on request,
 * and stop with the parent.
 */
import { type CpuProfile, startCpuProfile } from '../cpu-profile.ts';

/** Sends a message to the orchestrator. */
export function tellParent<T extends { kind: string }>(message: T): void {
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
 * Profiles this process between a `profile-start` and a `profile-stop` message, so that a
 * profile covers the load the orchestrator sends and nothing else; answers with the profile.
 */
export function profileOnRequest(): void {
  let stopProfile: (() => Promise<CpuProfile>) | undefined;
  process.on('message', async (message: { kind?: string }) => {
    if (message.kind === 'profile-start') {
      stopProfile = await startCpuProfile();
      tellParent({ kind: 'profiling' });
    } else if (message.kind === 'profile-stop' && stopProfile) {
      tellParent({ kind: 'profile', profile: await stopProfile() });
      stopProfile = undefined;
    }
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
