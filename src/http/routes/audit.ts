import { Type } from 'typebox';
import type { Keygate } from '../../services/keygate.ts';
import type { Router } from '../router.ts';
import { Id, ListQuery, PageOf } from '../schemas.ts';
import { AuditEventView, auditEventView } from '../views.ts';

const AuditQuery = Type.Object(
  {
    ...ListQuery.properties,
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z_.]+$' })),
    targetId: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export function registerAuditRoutes(app: Router, keygate: Keygate): void {
  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'The workspace’s audit events, newest first',
        querystring: AuditQuery,
        response: { 200: PageOf(AuditEventView) },
      },
    },
    async (request) => {
      const { action, targetId, ...options } = request.query;
      const page = await keygate.audit.list(request.actor, { action, targetId }, options);
      return { items: page.items.map(auditEventView), nextCursor: page.nextCursor };
    },
  );
}
