import { Type } from 'typebox';
import type { Keygate } from '../../services/keygate.ts';
import type { Router } from '../router.ts';
import { Id, ListQuery, Name, PageOf, Permissions } from '../schemas.ts';
import { RootKeyView, rootKeyView } from '../views.ts';

const CreateRootKey = Type.Object(
  { name: Name, permissions: Permissions },
  { additionalProperties: false },
);
const CreatedRootKey = Type.Intersect([
  Type.Object({ key: Type.String({ description: 'The secret; shown this once' }) }),
  RootKeyView,
]);
const tags = ['root keys'];

export function registerRootKeyRoutes(app: Router, keygate: Keygate): void {
  app.post(
    '/root-keys',
    { schema: { tags, body: CreateRootKey, response: { 201: CreatedRootKey } } },
    async (request, reply) => {
      const { record, key } = await keygate.rootKeys.create(request.actor, request.body);
      return reply.code(201).send({ key, ...rootKeyView(record) });
    },
  );

  app.get(
    '/root-keys',
    { schema: { tags, querystring: ListQuery, response: { 200: PageOf(RootKeyView) } } },
    async (request) => {
      const page = await keygate.rootKeys.list(request.actor, request.query);
      return { items: page.items.map(rootKeyView), nextCursor: page.nextCursor };
    },
  );

  app.delete(
    '/root-keys/:rootKeyId',
    { schema: { tags, params: Type.Object({ rootKeyId: Id }) } },
    async (request, reply) => {
      await keygate.rootKeys.delete(request.actor, request.params.rootKeyId);
      return reply.code(204).send();
    },
  );
}
