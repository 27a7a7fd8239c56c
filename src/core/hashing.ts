import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/** A secret mixed into every stored key hash, with the version recorded beside each hash. */
export interface Pepper {
  version: number;
  secret: KeyObject;
}

/** Builds a pepper from its secret text. */
export function createPepper(secret: string, version = 1): Pepper {
  return { version, secret: createSecretKey(Buffer.from(secret, 'utf8')) };
}

/** The stored form of a key: HMAC-SHA256 under the pepper, as 64 hex characters. */
export function hashKey(pepper: Pepper, key: string): string {
  return createHmac('sha256', pepper.secret).update(key).digest('hex');
}

/** Compares two secrets (or their hashes) in time that does not depend on where they differ. */
export function secretsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
