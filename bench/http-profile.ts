/** Where keygate's time goes under the part (a) load, from a CPU profile of the server. */
import { type CpuProfile, type ProfileSummary, summarizeProfile } from './cpu-profile.ts';
import { type LoadSample, runVerifyLoad } from './http-load.ts';
import { startKeygateTarget } from './http-targets.ts';
import type { BenchOptions } from './options.ts';

const PROFILE_TIMEOUT_MS = 60_000;

/** A profiled load run and its raw profile. */
export interface ServerProfile {
  logLevel: 'info' | 'warn';
  sample: LoadSample;
  summary: ProfileSummary;
  profile: CpuProfile;
}

/** Starts a fresh keygate, warms it up, and profiles it through one load run. */
export async function profileKeygateServer(
  logLevel: 'info' | 'warn',
  options: BenchOptions['http'],
): Promise<ServerProfile> {
  const target = await startKeygateTarget(logLevel);
  const shape = { connections: options.connections, pipelining: options.pipelining };
  try {
    await runVerifyLoad(target.call, { ...shape, seconds: options.warmupSeconds });
    target.child.send({ kind: 'profile-start' });
    await target.child.message('profiling', PROFILE_TIMEOUT_MS);

    const sample = await runVerifyLoad(target.call, { ...shape, seconds: options.seconds });
    target.child.send({ kind: 'profile-stop' });
    const { profile } = await target.child.message<{ kind: 'profile'; profile: CpuProfile }>(
      'profile',
      PROFILE_TIMEOUT_MS,
    );
    return { logLevel, sample, summary: summarizeProfile(profile), profile };
  } finally {
    await target.stop();
  }
}
