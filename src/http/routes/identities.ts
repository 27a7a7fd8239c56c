import { Type } from 'typebox';
import type { IdentitySettings } from '../../services/identities.ts';
import type { Keygate } from '../../services/keygate.ts';
import type { IdentityRecord } from '../../store/types.ts';
import type { Router } from '../router.ts';
import {
  Credits,
  CreditsChange,
  ExternalId,
  ListQuery,
  Meta,
  Nullable,
  PageOf,
  RateLimits,
} from '../schemas.ts';
import { creditsView, iso } from '../views.ts';

const CreateIdentity = Type.Object(
  {
    externalId: ExternalId,
    meta: Type.Optional(Meta),
    ratelimits: Type.Optional(RateLimits),
    credits: Type.Optional(Credits),
  },
  { additionalProperties: false },
);
const UpdateIdentity = Type.Object(
  {
    meta: Type.Optional(Nullable(Meta)),
    ratelimits: Type.Optional(Nullable(RateLimits)),
    credits: Type.Optional(Nullable(Credits)),
  },
  { additionalProperties: false, description: 'An omitted field is kept; `null` clears it.' },
);
const IdentityView = Type.Object({
  id: Type.String(),
  externalId: Type.String(),
  meta: Nullable(Meta),
  ratelimits: RateLimits,
  credits: Nullable(Credits),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const IdentityParams = Type.Object({ externalId: ExternalId });
const tags = ['identities'];

function identityView(identity: IdentityRecord, now: number) {
  const { id, externalId, meta, ratelimits } = identity;
  return {
    id,
    externalId,
    meta,
    ratelimits,
    credits: creditsView(identity.credits, now),
    createdAt: iso(identity.createdAt),
    updatedAt: iso(identity.updatedAt),
  };
}

export function registerIdentityRoutes(app: Router, keygate: Keygate): void {
  const view = (identity: IdentityRecord) => identityView(identity, keygate.clock());

  app.post(
    '/identities',
    { schema: { tags, body: CreateIdentity, response: { 201: IdentityView } } },
    async (request, reply) => {
      const identity = await keygate.identities.create(request.actor, request.body);
      return reply.code(201).send(view(identity));
    },
  );

  app.get(
    '/identities',
    { schema: { tags, querystring: ListQuery, response: { 200: PageOf(IdentityView) } } },
    async (request) => {
      const page = await keygate.identities.list(request.actor, request.query);
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/identities/:externalId',
    { schema: { tags, params: IdentityParams, response: { 200: IdentityView } } },
    async (request) => view(await keygate.identities.get(request.actor, request.params.externalId)),
  );

  app.patch(
    '/identities/:externalId',
    {
      schema: {
        tags,
        params: IdentityParams,
        body: UpdateIdentity,
        response: { 200: IdentityView },
      },
    },
    async (request) => {
      const patch = request.body as IdentitySettings;
      return view(await keygate.identities.update(request.actor, request.params.externalId, patch));
    },
  );

  app.delete(
    '/identities/:externalId',
    { schema: { tags, summary: 'Delete an identity; its keys stay', params: IdentityParams } },
    async (request, reply) => {
      await keygate.identities.delete(request.actor, request.params.externalId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/identities/:externalId/credits',
    {
      schema: {
        tags,
        params: IdentityParams,
        body: CreditsChange,
        response: { 200: IdentityView },
      },
    },
    async (request) => {
      const { op, value } = request.body;
      return view(
        await keygate.identities.adjustCredits(request.actor, request.params.externalId, op, value),
      );
    },
  );
}
