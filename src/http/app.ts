import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
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
import { handleError, sendProblem } from './problem.ts';
import { registerApiRoutes } from './routes/apis.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerIdentityRoutes } from './routes/identities.ts';
import { registerKeyRoutes } from './routes/keys.ts';
import { registerRateLimitRoutes } from './routes/ratelimits.ts';
import { registerRootKeyRoutes } from './routes/root-keys.ts';
import { registerVerifyRoutes } from './routes/verify.ts';
import { registerWorkspaceRoutes } from './routes/workspaces.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The root key behind a `/v1` request; set before any `/v1` handler runs. */
    actor: Actor;
  }
}

/** The largest request body accepted. */
export const BODY_LIMIT = 64 * 1024;

export interface AppOptions {
  keygate: Keygate;
  /** A pino logger; nothing is logged without one. */
  logger?: FastifyBaseLogger;
  /** Trust `X-Forwarded-For` from a proxy in front of keygate. */
  trustProxy?: boolean;
}

/** Builds the HTTP API over keygate's services. */
export async function buildApp(options: AppOptions) {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    logController: new RequestLog(),
    bodyLimit: BODY_LIMIT,
    trustProxy: options.trustProxy ?? false,
    genReqId: () => newRequestId(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    maxParamLength: 500,
    // The router refuses these before any route or hook runs, so the log line is written here.
    frameworkErrors: (error, request, reply) => {
      request.log.info({ method: request.method, route: null, status: 400, ms: 0 }, 'request');
      return sendProblem(request, reply, 'BAD_REQUEST', `the path is not valid: ${error.message}`, [
        { path: 'params', message: 'is not a valid path segment or is too long' },
      ]);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler());
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
  await app.register(
    async (v1) => {
      v1.decorateRequest('actor', undefined as unknown as Actor);
      v1.addHook('onRequest', async (request, reply) => {
        const actor = await authenticate(options.keygate, request);
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
      registerVerifyRoutes(v1, options.keygate);
      registerAuditRoutes(v1, options.keygate);
      registerIdentityRoutes(v1, options.keygate);
      registerRateLimitRoutes(v1, options.keygate);
    },
    { prefix: '/v1' },
  );

  return app;
}

/** One log line per request, when it completes: never a header, a body or a secret. */
class RequestLog extends LogController {
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
  }
}

export type KeygateApp = Awaited<ReturnType<typeof buildApp>>;

async function authenticate(
  keygate: Keygate,
  request: { headers: Record<string, unknown>; ip: string },
) {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !/^bearer /i.test(header)) return undefined;

  const userAgent = request.headers['user-agent'];
  return keygate.rootKeys.authenticate(header.slice(7).trim(), {
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
  });
}

/**
 * Bodies are validated strictly (no coercion, unknown fields rejected, nothing removed);
 * query strings and path parameters arrive as text, so they are coerced to the declared types.
 */
function validatorCompiler() {
  const strict: AjvOptions = {
    allErrors: false,
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: false,
    strict: false,
  };
  const body = addFormats.default(new Ajv(strict));
  const text = addFormats.default(new Ajv({ ...strict, coerceTypes: true }));

  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? body : text).compile(schema);
}

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
