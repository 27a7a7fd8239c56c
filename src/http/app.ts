import { createServer } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { newRequestId } from '../core/ids.ts';
import type { Actor } from '../services/actor.ts';
import type { Keygate } from '../services/keygate.ts';
import { authenticate } from './authenticate.ts';
import { BODY_LIMIT, parseJsonBody } from './body.ts';
import { createFastVerify, type FastVerify } from './fast-verify.ts';
import { KeygateMetrics } from './metrics.ts';
import { handleError, sendProblem } from './problem.ts';
import { registerApiRoutes } from './routes/apis.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerIdentityRoutes } from './routes/identities.ts';
import { registerKeyRoutes } from './routes/keys.ts';
import { registerMetricsRoute } from './routes/metrics.ts';
import { registerRateLimitRoutes } from './routes/ratelimits.ts';
import { registerRootKeyRoutes } from './routes/root-keys.ts';
import { registerUsageRoutes } from './routes/usage.ts';
import { registerVerifyRoutes } from './routes/verify.ts';
import { registerWorkspaceRoutes } from './routes/workspaces.ts';
import { validatorCompiler } from './validation.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The root key behind a `/v1` request; set before any `/v1` handler runs. */
    actor: Actor;
  }
}

export { BODY_LIMIT } from './body.ts';

/** How long an idle keep-alive connection stays open: longer than load balancers keep theirs. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export interface AppOptions {
  keygate: Keygate;
  /** A pino logger; nothing is logged without one. */
  logger?: FastifyBaseLogger;
  /** Trust `X-Forwarded-For` from a proxy in front of keygate. */
  trustProxy?: boolean;
  /** Where `/metrics` reads from; the app makes its own when none is given. */
  metrics?: KeygateMetrics;
  /** When set, `/metrics` asks for `Authorization: Bearer <token>`. */
  metricsToken?: string | undefined;
}

/** Builds the HTTP API over keygate's services. */
export async function buildApp(options: AppOptions) {
  const metrics = options.metrics ?? new KeygateMetrics();
  metrics.observe(options.keygate);
  let fastVerify: FastVerify | undefined;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    logController: new RequestLog(metrics),
    bodyLimit: BODY_LIMIT,
    trustProxy: options.trustProxy ?? false,
    genReqId: () => newRequestId(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 500 },
    // Verification skips Fastify: see createFastVerify.
    serverFactory: (handler) => {
      const server = createServer((request, response) => {
        if (!fastVerify?.(request, response)) handler(request, response);
      });
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      return server;
    },
    // The router refuses these before any route or hook runs, so the log line is written here.
    frameworkErrors: (error, request, reply) => {
      request.log.info({ method: request.method, route: null, status: 400, ms: 0 }, 'request');
      return sendProblem(request, reply, 'BAD_REQUEST', `the path is not valid: ${error.message}`, [
        { path: 'params', message: 'is not a valid path segment or is too long' },
      ]);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  fastVerify = createFastVerify({
    keygate: options.keygate,
    metrics,
    log: app.log,
    trustProxy: options.trustProxy ?? false,
    closing: () => closing,
  });

  app.setValidatorCompiler(validatorCompiler);
  // One JSON parser for every route and the fast path, so that bad bodies read the same.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(String(body)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      'NOT_FOUND',
      `no route ${request.method} ${request.url.split('?')[0]}`,
    ),
  );

  await registerDocs(app);
  registerHealthRoutes(app, options.keygate);
  registerMetricsRoute(app, metrics, options.metricsToken);
  await app.register(
    async (v1) => {
      v1.decorateRequest('actor', undefined as unknown as Actor);
      v1.addHook('onRequest', async (request, reply) => {
        const actor = await authenticate(options.keygate, request.headers, request.ip);
        if (!actor)
          return sendProblem(
            request,
            reply,
            'UNAUTHORIZED',
            'a valid root key is required in Authorization: Bearer',
          );
        request.actor = actor;
      });
      registerWorkspaceRoutes(v1, options.keygate);
      registerRootKeyRoutes(v1, options.keygate);
      registerApiRoutes(v1, options.keygate);
      registerKeyRoutes(v1, options.keygate);
      registerVerifyRoutes(v1, options.keygate, metrics);
      registerAuditRoutes(v1, options.keygate);
      registerIdentityRoutes(v1, options.keygate);
      registerRateLimitRoutes(v1, options.keygate);
      registerUsageRoutes(v1, options.keygate);
    },
    { prefix: '/v1' },
  );

  return app;
}

/** One log line per request, when it completes: never a header, a body or a secret. */
class RequestLog extends LogController {
  constructor(private readonly metrics: KeygateMetrics) {
    super();
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? null,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request failed');
    else reply.log.info(line, 'request');
    this.metrics.answered(line.method, line.route ?? 'unmatched', line.status);
  }
}

export type KeygateApp = Awaited<ReturnType<typeof buildApp>>;

async function registerDocs(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'keygate',
        version: '1',
        description: 'Issue, verify, limit and audit API keys.',
      },
      components: { securitySchemes: { rootKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ rootKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
