/**
 * Bench target: the real keygate server, configured from the environment the orchestrator
 * passes (`KEYGATE_DATA_DIR`, `KEYGATE_ROOT_KEY`, `KEYGATE_LOG_LEVEL`) on a free local port.
 * On request it also profiles itself, so a profile covers the load and nothing else.
 */
import { loadConfig } from '../../src/server/config.ts';
import { startServer } from '../../src/server/start.ts';
import { type CpuProfile, startCpuProfile } from '../cpu-profile.ts';
import { reportCpuUsage, stopWithParent, tellParent } from './child-protocol.ts';

const server = await startServer(
  loadConfig({ ...process.env, KEYGATE_HOST: '127.0.0.1', KEYGATE_PORT: '0' }),
);
reportCpuUsage();
stopWithParent(() => server.stop());

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
tellParent({ kind: 'ready', url: server.url });
