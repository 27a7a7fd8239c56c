import { Type } from 'typebox';
import type { Keygate } from '../../services/keygate.ts';
import type { RateLimitOverrideRecord } from '../../store/types.ts';
import { writeRateLimitHeaders } from '../ratelimit-headers.ts';
import type { Router } from '../router.ts';
import { ExternalId } from '../schemas.ts';
import { iso } from '../views.ts';

const Namespace = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_-]+$',
  description:
    'Letters, digits, _ and -; it is a segment of the permission ratelimit.<namespace>.limit',
});
const Limit = Type.Integer({
  minimum: 0,
  maximum: 1_000_000_000,
  description: '0 blocks every request',
});
const Duration = Type.Integer({ minimum: 1, maximum: 31 * 24 * 3600 * 1000, description: 'ms' });

const LimitBody = Type.Object(
  {
    identifier: ExternalId,
    limit: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
    duration: Duration,
    cost: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 1 })),
    legacyHeaders: Type.Optional(Type.Boolean({ description: 'Also send X-RateLimit-* fields' })),
  },
  { additionalProperties: false },
);
const LimitAnswer = Type.Object({
  success: Type.Boolean(),
  limit: Type.Integer(),
  remaining: Type.Integer(),
  resetAt: Type.String({ format: 'date-time' }),
  overrideId: Type.Union([Type.String(), Type.Null()]),
});
const OverrideBody = Type.Object(
  { limit: Limit, duration: Duration },
  { additionalProperties: false },
);
const OverrideView = Type.Object({
  id: Type.String(),
  namespace: Type.String(),
  identifier: Type.String(),
  limit: Type.Integer(),
  duration: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const NamespaceParams = Type.Object({ namespace: Namespace });
const OverrideParams = Type.Object({ namespace: Namespace, identifier: ExternalId });
const tags = ['rate limits'];

function overrideView(override: RateLimitOverrideRecord) {
  const { id, namespace, identifier, limit, duration } = override;
  return {
    id,
    namespace,
    identifier,
    limit,
    duration,
    createdAt: iso(override.createdAt),
    updatedAt: iso(override.updatedAt),
  };
}

export function registerRateLimitRoutes(app: Router, keygate: Keygate): void {
  app.post(
    '/ratelimits/:namespace/limit',
    {
      schema: {
        tags,
        summary: 'Count one call of an identifier',
        params: NamespaceParams,
        body: LimitBody,
        response: { 200: LimitAnswer },
      },
    },
    async (request, reply) => {
      const { namespace } = request.params;
      const answer = await keygate.ratelimits.limit(request.actor, namespace, request.body);
      writeRateLimitHeaders(reply, [{ name: namespace, ...answer }], {
        denied: !answer.success,
        legacy: request.body.legacyHeaders ?? false,
        now: keygate.clock(),
      });
      const { success, limit, remaining, overrideId } = answer;
      return { success, limit, remaining, resetAt: iso(answer.resetAt), overrideId };
    },
  );

  app.put(
    '/ratelimits/:namespace/overrides/:identifier',
    {
      schema: {
        tags,
        summary: 'Set the limit of an identifier or a * pattern',
        params: OverrideParams,
        body: OverrideBody,
        response: { 200: OverrideView },
      },
    },
    async (request) => {
      const { namespace, identifier } = request.params;
      return overrideView(
        await keygate.ratelimits.putOverride(request.actor, namespace, identifier, request.body),
      );
    },
  );

  app.get(
    '/ratelimits/:namespace/overrides/:identifier',
    { schema: { tags, params: OverrideParams, response: { 200: OverrideView } } },
    async (request) => {
      const { namespace, identifier } = request.params;
      return overrideView(
        await keygate.ratelimits.getOverride(request.actor, namespace, identifier),
      );
    },
  );

  app.delete(
    '/ratelimits/:namespace/overrides/:identifier',
    { schema: { tags, params: OverrideParams } },
    async (request, reply) => {
      const { namespace, identifier } = request.params;
      await keygate.ratelimits.deleteOverride(request.actor, namespace, identifier);
      return reply.code(204).send(null);
    },
  );
}
