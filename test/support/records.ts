import { randomBytes } from 'node:crypto';
import type { KeyRecord } from '../../src/store/types.ts';

/**
 * A key record of a plain key, for store tests: no settings, a random hash, made at
 * `createdAt`; `fields` set anything else.
 */
export function keyRecord(
  fields: Pick<KeyRecord, 'id' | 'workspaceId' | 'apiId' | 'createdAt'> & Partial<KeyRecord>,
): KeyRecord {
  return {
    lineageId: fields.id,
    hash: randomBytes(32).toString('hex'),
    pepperVersion: 1,
    start: 'kg_AbCd',
    name: null,
    externalId: null,
    meta: null,
    permissions: [],
    enabled: true,
    expiresAt: null,
    creditBalanceId: null,
    credits: null,
    ratelimits: [],
    updatedAt: fields.createdAt,
    lastUsedAt: null,
    revokedAt: null,
    rolledFrom: null,
    ...fields,
  };
}
