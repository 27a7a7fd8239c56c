/** Where a server's time goes under the part (a) load, from a CPU profile of its process. */
import {
  type CpuProfile,
  type ProfileStage,
  type ProfileSummary,
  summarizeProfile,
} from './cpu-profile.ts';
import { type LoadSample, runVerifyLoad } from './http-load.ts';
import { type HttpTarget, startKeygateTarget, startLeanTarget } from './http-targets.ts';
import type { BenchOptions } from './options.ts';

const PROFILE_TIMEOUT_MS = 60_000;

/**
 * The native calls that write to a socket. Their samples are mostly kernel time, and time the
 * server waits for the CPU after waking the client, so they are left out of the user-space
 * split; the kernel's share is measured as system CPU instead.
 */
export const SOCKET_WRITES = /^(writev|writeUtf8String|writeBuffer|writeLatin1String)$/;
const GARBAGE_COLLECTION: ProfileStage = {
  name: 'garbage collection',
  frame: /^\(garbage collector\)$/,
};

/** The parts of a keygate request worth naming, each found by its function on the stack. */
export const KEYGATE_STAGES: ProfileStage[] = [
  { name: 'request id: newRequestId', frame: /^newRequestId src\/core\/ids\.ts$/ },
  {
    name: 'root-key check: rootKeys.authenticate',
    frame: /^authenticate src\/services\/root-keys\.ts$/,
  },
  { name: 'body read (readBody)', frame: /^readBody src\/http\/body\.ts$/ },
  { name: 'body parse (secure-json-parse)', frame: /^parse secure-json-parse\// },
  { name: 'body validation (Ajv)', frame: /^validate\d+$/ },
  {
    name: 'VerifyService.verify (parse, HMAC, cache, checks)',
    frame: /^verify src\/services\/verify\.ts$/,
  },
  {
    name: 'answer JSON (verifyResultJson)',
    frame: /^verifyResultJson src\/http\/routes\/verify\.ts$/,
  },
  { name: 'answer written (writeHead, end)', frame: /^write src\/http\/fast-verify\.ts$/ },
  { name: 'request log line (pino)', frame: /^log src\/http\/fast-verify\.ts$/ },
  {
    name: 'request log write to stdout (LogDestination)',
    frame: /^#writePending src\/server\/log-destination\.ts$/,
  },
  GARBAGE_COLLECTION,
];

/** The same split for the lean verifier. */
export const LEAN_STAGES: ProfileStage[] = [
  { name: 'HMAC-SHA256 of the key', frame: /^hashOf bench\/targets\/lean-server\.ts$/ },
  GARBAGE_COLLECTION,
];

/** A profiled load run: its samples, and the profile without the socket writes. */
export interface ServerProfile {
  sample: LoadSample;
  summary: ProfileSummary;
}

/** Warms a target up, then profiles its process through one load run. */
export async function profileServer(
  target: HttpTarget,
  options: BenchOptions['http'],
  stages: readonly ProfileStage[],
): Promise<ServerProfile> {
  const shape = { connections: options.connections, pipelining: options.pipelining };
  await runVerifyLoad(target.call, { ...shape, seconds: options.warmupSeconds });
  target.child.send({ kind: 'profile-start' });
  await target.child.message('profiling', PROFILE_TIMEOUT_MS);

  const sample = await runVerifyLoad(target.call, { ...shape, seconds: options.seconds });
  target.child.send({ kind: 'profile-stop' });
  const { profile } = await target.child.message<{ kind: 'profile'; profile: CpuProfile }>(
    'profile',
    PROFILE_TIMEOUT_MS,
  );
  return { sample, summary: summarizeProfile(profile, stages, SOCKET_WRITES) };
}

/** keygate (log level info) and the lean verifier, each profiled in a fresh process. */
export async function profileKeygateAndLean(
  options: BenchOptions['http'],
): Promise<{ keygate: ServerProfile; lean: ServerProfile }> {
  const profileFresh = async (target: HttpTarget, stages: readonly ProfileStage[]) => {
    try {
      return await profileServer(target, options, stages);
    } finally {
      await target.stop();
    }
  };
  const keygate = await profileFresh(await startKeygateTarget('info'), KEYGATE_STAGES);
  const lean = await profileFresh(await startLeanTarget(), LEAN_STAGES);
  return { keygate, lean };
}
