import { Type } from 'typebox';
import type { Keygate } from '../../services/keygate.ts';
import type { Router } from '../router.ts';
import { Name } from '../schemas.ts';
import { iso } from '../views.ts';

const CreateWorkspace = Type.Object({ name: Name }, { additionalProperties: false });
const CreatedWorkspace = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
  rootKey: Type.String({ description: 'The new workspace’s first root key; shown this once' }),
});

export function registerWorkspaceRoutes(app: Router, keygate: Keygate): void {
  app.post(
    '/workspaces',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Create a workspace (tenant) and its first root key',
        body: CreateWorkspace,
        response: { 201: CreatedWorkspace },
      },
    },
    async (request, reply) => {
      const { workspace, rootKey } = await keygate.workspaces.create(
        request.actor,
        request.body.name,
      );
      return reply.code(201).send({ ...workspace, createdAt: iso(workspace.createdAt), rootKey });
    },
  );
}
