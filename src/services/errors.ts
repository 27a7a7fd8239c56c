/** Every error code the API answers with; the HTTP layer maps each to one status. */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR';

/** One problem with one field of the input. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** A request keygate refuses, with the code that says why. */
export class KeygateError extends Error {
  override name = 'KeygateError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldProblem[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A 400 that names the field at fault. */
export function invalidField(path: string, message: string): KeygateError {
  return new KeygateError('BAD_REQUEST', `${path}: ${message}`, [{ path, message }]);
}

/** A 404 for a record that is absent or belongs to another workspace. */
export function notFound(what: string, id: string): KeygateError {
  return new KeygateError('NOT_FOUND', `${what} ${id} was not found`);
}

/** A 403 naming the permission the root key lacks. */
export function forbidden(permission: string): KeygateError {
  return new KeygateError('FORBIDDEN', `the root key lacks the permission ${permission}`);
}
