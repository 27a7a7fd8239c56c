import { Type } from 'typebox';
import type { Keygate } from '../../services/keygate.ts';
import type { Router } from '../router.ts';
import { Id, ListQuery, Name, PageOf, Prefix } from '../schemas.ts';
import { ApiView, apiView } from '../views.ts';

const CreateApi = Type.Object(
  { name: Name, prefix: Type.Optional(Prefix) },
  { additionalProperties: false },
);
const ApiParams = Type.Object({ apiId: Id });
const tags = ['apis'];

export function registerApiRoutes(app: Router, keygate: Keygate): void {
  app.post(
    '/apis',
    { schema: { tags, body: CreateApi, response: { 201: ApiView } } },
    async (request, reply) => {
      const api = await keygate.apis.create(request.actor, request.body);
      return reply.code(201).send(apiView(api));
    },
  );

  app.get(
    '/apis',
    { schema: { tags, querystring: ListQuery, response: { 200: PageOf(ApiView) } } },
    async (request) => {
      const page = await keygate.apis.list(request.actor, request.query);
      return { items: page.items.map(apiView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/apis/:apiId',
    { schema: { tags, params: ApiParams, response: { 200: ApiView } } },
    async (request) => apiView(await keygate.apis.get(request.actor, request.params.apiId)),
  );

  app.delete(
    '/apis/:apiId',
    { schema: { tags, summary: 'Delete an API with all its keys', params: ApiParams } },
    async (request, reply) => {
      await keygate.apis.delete(request.actor, request.params.apiId);
      return reply.code(204).send();
    },
  );
}
