import { Type } from 'typebox';
import type { Keygate } from '../../services/keygate.ts';
import { sendProblem } from '../problem.ts';
import type { Router } from '../router.ts';

const Status = Type.Object({ status: Type.String() });

/** `/healthz` answers while the process runs; `/readyz` only while the store answers too. */
export function registerHealthRoutes(app: Router, keygate: Keygate): void {
  const meta = { tags: ['health'], security: [] };

  app.get('/healthz', { schema: { ...meta, response: { 200: Status } } }, async () => ({
    status: 'ok',
  }));

  app.get('/readyz', { schema: { ...meta, response: { 200: Status } } }, async (request, reply) => {
    try {
      await keygate.store.ping();
      return { status: 'ready' };
    } catch (error) {
      request.log.warn({ err: error }, 'store not ready');
      return sendProblem(
        request,
        reply,
        'SERVICE_UNAVAILABLE',
        `the ${keygate.store.kind} store is not reachable`,
      );
    }
  });
}
