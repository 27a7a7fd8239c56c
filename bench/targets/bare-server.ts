/**
 * Bench target: the floor of an HTTP answer from Node. It answers every request with the same
 * small JSON without reading the body; Node discards the body itself.
 */
import { createServer } from 'node:http';
import { reportCpuUsage, stopWithParent, tellParent } from './child-protocol.ts';

const ANSWER = JSON.stringify({ valid: true, code: 'VALID' });

const server = createServer((_request, response) => {
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(ANSWER),
  });
  response.end(ANSWER);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port was assigned');
  tellParent({ kind: 'ready', url: `http://127.0.0.1:${address.port}` });
});
reportCpuUsage();
stopWithParent(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
