/**
 * Bench target: the real keygate server, configured from the environment the orchestrator
 * passes (`KEYGATE_DATA_DIR`, `KEYGATE_ROOT_KEY`, `KEYGATE_LOG_LEVEL`) on a free local port.
 */
import { loadConfig } from '../../src/server/config.ts';
import { startServer } from '../../src/server/start.ts';
import { profileOnRequest, reportCpuUsage, stopWithParent, tellParent } from './child-protocol.ts';

const server = await startServer(
  loadConfig({ ...process.env, KEYGATE_HOST: '127.0.0.1', KEYGATE_PORT: '0' }),
);
reportCpuUsage();
profileOnRequest();
stopWithParent(() => server.stop());
tellParent({ kind: 'ready', url: server.url });
