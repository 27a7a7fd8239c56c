import type { Page, PageRequest } from '../store/types.ts';
import { invalidField } from './errors.ts';

/** A page as the API answers it: the records and an opaque cursor, `null` at the end. */
export interface CursorPage<T> {
  items: T[];
  nextCursor: string | null;
}

/** What a caller asks for: how many, and where to continue. */
export interface ListOptions {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export const DEFAULT_PAGE_SIZE = 50;
const CURSOR_PATTERN = /^[a-z]{2,4}_[0-9A-Za-z]{20}$/;

/** Turns the caller's cursor back into the id to continue after; a forged one is a 400. */
export function toPageRequest(options: ListOptions): PageRequest {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  if (options.cursor === undefined) return { limit };

  const after = Buffer.from(options.cursor, 'base64url').toString('utf8');
  if (!CURSOR_PATTERN.test(after))
    throw invalidField('query.cursor', 'is not a cursor this API gave out');
  return { limit, after };
}

/** Maps a store page to an API page with an opaque cursor. */
export function toCursorPage<R, T>(page: Page<R>, view: (record: R) => T): CursorPage<T> {
  return {
    items: page.items.map(view),
    nextCursor: page.nextAfter === null ? null : Buffer.from(page.nextAfter).toString('base64url'),
  };
}
