import { Type } from 'typebox';
import { isoTime } from '../core/iso-time.ts';
import { creditsAt } from '../services/credits.ts';
import { invalidField } from '../services/errors.ts';
import type {
  ApiRecord,
  AuditEventRecord,
  CreditsConfig,
  KeyRecord,
  OwnedCredits,
  RootKeyRecord,
} from '../store/types.ts';
import { Credits, Meta, Nullable, RateLimits } from './schemas.ts';

/** A time as the API shows it: ISO 8601 UTC, or `null`. */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

/**
 * Milliseconds from an ISO 8601 time; `null` and `undefined` pass through. A time the schema
 * admits but the calendar does not (a leap second such as `23:59:60`) is a 400 naming `field`.
 */
export function fromIso<T extends null | undefined>(field: string, text: string | T): number | T {
  if (typeof text !== 'string') return text;

  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw invalidField(field, `"${text}" is not a time keygate can store`);
  return ms;
}

const Time = Type.String({ format: 'date-time' });

export const ApiView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  createdAt: Time,
});

export function apiView(api: ApiRecord) {
  return { id: api.id, name: api.name, prefix: api.prefix, createdAt: iso(api.createdAt) };
}

export const KeyView = Type.Object({
  id: Type.String(),
  apiId: Type.String(),
  start: Type.String({ description: 'The prefix and the first characters, for display' }),
  name: Nullable(Type.String()),
  externalId: Nullable(Type.String()),
  meta: Nullable(Meta),
  permissions: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  expiresAt: Nullable(Time),
  credits: Nullable(Credits),
  ratelimits: RateLimits,
  createdAt: Time,
  updatedAt: Time,
  lastUsedAt: Nullable(Time),
  revokedAt: Nullable(Time),
  rolledFrom: Nullable(Type.String()),
});

export const CreatedKeyView = Type.Intersect([
  Type.Object({ key: Type.String({ description: 'The secret; shown this once' }) }),
  KeyView,
]);

/** Credits as the API shows them: refilled to `now`, without the time of the last refill. */
export function creditsView(credits: OwnedCredits | null, now: number): CreditsConfig | null {
  return credits && creditsAt(credits, now);
}

/** A key as the API shows it at `now`. */
export function keyView(key: KeyRecord, now: number) {
  return {
    id: key.id,
    apiId: key.apiId,
    start: key.start,
    name: key.name,
    externalId: key.externalId,
    meta: key.meta,
    permissions: key.permissions,
    enabled: key.enabled,
    expiresAt: iso(key.expiresAt),
    credits: creditsView(key.credits, now),
    ratelimits: key.ratelimits,
    createdAt: iso(key.createdAt),
    updatedAt: iso(key.updatedAt),
    lastUsedAt: iso(key.lastUsedAt),
    revokedAt: iso(key.revokedAt),
    rolledFrom: key.rolledFrom,
  };
}

export const RootKeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  start: Type.String(),
  permissions: Type.Array(Type.String()),
  createdAt: Time,
});

export function rootKeyView(rootKey: RootKeyRecord) {
  const { id, name, start, permissions } = rootKey;
  return { id, name, start, permissions, createdAt: iso(rootKey.createdAt) };
}

export const AuditEventView = Type.Object({
  id: Type.String(),
  actorId: Type.String({ description: 'The root key that acted, or `system`' }),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Type.String(),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  changes: Nullable(Type.Record(Type.String(), Type.Unknown())),
  createdAt: Time,
});

export function auditEventView(event: AuditEventRecord) {
  const { id, actorId, action, targetType, targetId, ip, userAgent, changes } = event;
  return {
    id,
    actorId,
    action,
    targetType,
    targetId,
    ip,
    userAgent,
    changes,
    createdAt: iso(event.createdAt),
  };
}
