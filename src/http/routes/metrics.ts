import { secretsEqual } from '../../core/hashing.ts';
import type { KeygateMetrics } from '../metrics.ts';
import { sendProblem } from '../problem.ts';
import type { Router } from '../router.ts';

/** `GET /metrics` in Prometheus' text format, behind a bearer token when one is set. */
export function registerMetricsRoute(
  app: Router,
  metrics: KeygateMetrics,
  token: string | undefined,
): void {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics, all named keygate_*',
        security: token === undefined ? [] : [{ rootKey: [] }],
      },
    },
    async (request, reply) => {
      const header = request.headers.authorization ?? '';
      if (token !== undefined && !secretsEqual(header, `Bearer ${token}`)) {
        return sendProblem(
          request,
          reply,
          'UNAUTHORIZED',
          'the metrics token is required in Authorization: Bearer',
        );
      }
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
}
