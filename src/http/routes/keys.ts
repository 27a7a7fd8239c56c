import { Type } from 'typebox';
import type { Keygate } from '../../services/keygate.ts';
import type { KeySettings } from '../../services/keys.ts';
import type { KeyRecord } from '../../store/types.ts';
import type { Router } from '../router.ts';
import {
  Credits,
  CreditsChange,
  ExternalId,
  Id,
  ListQuery,
  Meta,
  Name,
  Nullable,
  PageOf,
  Permissions,
  Prefix,
  RateLimits,
  Timestamp,
} from '../schemas.ts';
import { CreatedKeyView, fromIso, KeyView, keyView } from '../views.ts';

const CreateKey = Type.Object(
  {
    name: Type.Optional(Name),
    externalId: Type.Optional(ExternalId),
    meta: Type.Optional(Meta),
    permissions: Type.Optional(Permissions),
    enabled: Type.Optional(Type.Boolean()),
    expiresAt: Type.Optional(Timestamp),
    prefix: Type.Optional(Prefix),
    credits: Type.Optional(Credits),
    ratelimits: Type.Optional(RateLimits),
  },
  { additionalProperties: false },
);

const UpdateKey = Type.Object(
  {
    name: Type.Optional(Nullable(Name)),
    externalId: Type.Optional(Nullable(ExternalId)),
    meta: Type.Optional(Nullable(Meta)),
    permissions: Type.Optional(Nullable(Permissions)),
    enabled: Type.Optional(Type.Boolean()),
    expiresAt: Type.Optional(Nullable(Timestamp)),
    credits: Type.Optional(Nullable(Credits)),
    ratelimits: Type.Optional(Nullable(RateLimits)),
  },
  { additionalProperties: false, description: 'An omitted field is kept; `null` clears it.' },
);

const RollKey = Type.Object(
  { gracePeriodMs: Type.Optional(Type.Integer({ minimum: 0, default: 0 })) },
  { additionalProperties: false },
);

const ApiParams = Type.Object({ apiId: Id });
const KeyParams = Type.Object({ keyId: Id });
const KeyListQuery = Type.Object(
  { ...ListQuery.properties, externalId: Type.Optional(ExternalId) },
  { additionalProperties: false },
);
const DeleteQuery = Type.Object(
  { permanent: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);
const tags = ['keys'];

/** Turns the wire form of key settings into the services' form. */
function toSettings(
  body: Partial<Record<keyof KeySettings, unknown>> & { expiresAt?: string | null },
) {
  const settings = { ...body, expiresAt: fromIso('expiresAt', body.expiresAt) } as KeySettings;
  if (body.expiresAt === undefined) delete settings.expiresAt;
  if (body.permissions === null) settings.permissions = [];
  if (body.ratelimits === null) settings.ratelimits = [];
  return settings;
}

export function registerKeyRoutes(app: Router, keygate: Keygate): void {
  const view = (key: KeyRecord) => keyView(key, keygate.clock());

  app.post(
    '/apis/:apiId/keys',
    { schema: { tags, params: ApiParams, body: CreateKey, response: { 201: CreatedKeyView } } },
    async (request, reply) => {
      const { prefix, ...settings } = request.body;
      const created = await keygate.keys.create(request.actor, request.params.apiId, {
        ...toSettings(settings),
        prefix,
      });
      return reply.code(201).send({ key: created.key, ...view(created.record) });
    },
  );

  app.get(
    '/apis/:apiId/keys',
    {
      schema: {
        tags,
        params: ApiParams,
        querystring: KeyListQuery,
        response: { 200: PageOf(KeyView) },
      },
    },
    async (request) => {
      const { externalId, ...options } = request.query;
      const page = await keygate.keys.list(
        request.actor,
        request.params.apiId,
        { externalId },
        options,
      );
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/keys/:keyId',
    { schema: { tags, params: KeyParams, response: { 200: KeyView } } },
    async (request) => view(await keygate.keys.get(request.actor, request.params.keyId)),
  );

  app.patch(
    '/keys/:keyId',
    { schema: { tags, params: KeyParams, body: UpdateKey, response: { 200: KeyView } } },
    async (request) => {
      const updated = await keygate.keys.update(
        request.actor,
        request.params.keyId,
        toSettings(request.body),
      );
      return view(updated);
    },
  );

  app.delete(
    '/keys/:keyId',
    {
      schema: {
        tags,
        summary: 'Revoke a key, or erase it with ?permanent=true',
        params: KeyParams,
        querystring: DeleteQuery,
        response: { 200: KeyView, 204: Type.Null({ description: 'Erased' }) },
      },
    },
    async (request, reply) => {
      const { keyId } = request.params;
      if (!request.query.permanent) return view(await keygate.keys.revoke(request.actor, keyId));

      await keygate.keys.erase(request.actor, keyId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/keys/:keyId/credits',
    { schema: { tags, params: KeyParams, body: CreditsChange, response: { 200: KeyView } } },
    async (request) => {
      const { op, value } = request.body;
      return view(await keygate.keys.adjustCredits(request.actor, request.params.keyId, op, value));
    },
  );

  app.post(
    '/keys/:keyId/roll',
    {
      schema: {
        tags,
        params: KeyParams,
        body: RollKey,
        response: { 201: CreatedKeyView },
      },
      // The body is optional: a roll without one gives the old key no grace period.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const grace = request.body.gracePeriodMs ?? 0;
      const created = await keygate.keys.roll(request.actor, request.params.keyId, grace);
      return reply.code(201).send({ key: created.key, ...view(created.record) });
    },
  );
}
