import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, type FieldProblem, KeygateError } from '../services/errors.ts';
import { StoreConflictError, StoreUnavailableError } from '../store/types.ts';
import { PATTERN_MESSAGES } from './schemas.ts';

/** The HTTP status of each error code. */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case 'BAD_REQUEST':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'SERVICE_UNAVAILABLE':
      return 503;
    case 'INTERNAL_ERROR':
      return 500;
  }
}

const TITLES: Record<ErrorCode, string> = {
  BAD_REQUEST: 'Bad request',
  UNAUTHORIZED: 'Unauthorized',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  SERVICE_UNAVAILABLE: 'Service unavailable',
  INTERNAL_ERROR: 'Internal error',
};

/** What an error answer says: its code, a sentence, and the fields at fault. */
export interface Problem {
  code: ErrorCode;
  detail: string;
  errors?: FieldProblem[] | undefined;
}

/** The RFC 9457 body of a problem. */
export function problemBody(problem: Problem, requestId: string) {
  const { code, detail, errors } = problem;
  const status = statusOf(code);
  return {
    type: `https://keygate.dev/errors/${code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[code],
    status,
    detail,
    code,
    requestId,
    ...(errors ? { errors } : {}),
  };
}

/** Answers an error as an RFC 9457 problem+json body. */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  detail: string,
  errors?: FieldProblem[],
): FastifyReply {
  return reply
    .code(statusOf(code))
    .type('application/problem+json')
    .send(problemBody({ code, detail, errors }, request.id));
}

/** Turns anything thrown by a route into a problem answer; only the unexpected is a 500. */
export function handleError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error.validation) {
    const problem = validationProblem(error.validationContext, error.validation);
    return sendProblem(request, reply, problem.code, problem.detail, problem.errors);
  }
  const status = error.statusCode ?? 500;
  if (!(error instanceof KeygateError) && status >= 400 && status < 500)
    return sendProblem(request, reply, clientCode(status), clientDetail(error));

  const problem = problemOf(error, request.log);
  return sendProblem(request, reply, problem.code, problem.detail, problem.errors);
}

/**
 * The problem a service's error stands for. Refusals carry their own; a store that is down or
 * in conflict is told without its detail; anything else is logged and answered as a 500.
 */
export function problemOf(error: unknown, log: FastifyBaseLogger): Problem {
  if (error instanceof KeygateError) {
    return { code: error.code, detail: error.message, errors: error.errors };
  }
  if (error instanceof StoreConflictError) {
    log.warn({ err: error }, 'store conflict');
    return { code: 'CONFLICT', detail: 'the change conflicts with another one; retry it' };
  }
  if (error instanceof StoreUnavailableError) {
    log.error({ err: error }, 'store unavailable');
    return { code: 'SERVICE_UNAVAILABLE', detail: 'the store is not reachable' };
  }
  log.error({ err: error }, 'request failed');
  return { code: 'INTERNAL_ERROR', detail: 'an unexpected error occurred' };
}

/** A 400 naming every field of `issues`, schema violations in part `context` of a request. */
export function validationProblem(
  context: string | undefined,
  issues: readonly ValidationIssue[],
): Problem {
  const errors = issues.map((issue) => describeIssue(context, issue));
  const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return { code: 'BAD_REQUEST', detail, errors };
}

function clientCode(status: number): ErrorCode {
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  return 'BAD_REQUEST';
}

function clientDetail(error: FastifyError): string {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'the body is larger than 64 KiB';
  if (error instanceof SyntaxError) return `the body is not valid JSON: ${error.message}`;
  return error.message;
}

/** One schema violation, as Ajv reports it. */
export interface ValidationIssue {
  instancePath: string;
  message?: string | undefined;
  keyword: string;
  params: Record<string, unknown>;
}

/** Names the field of a schema violation: `name`, `ratelimits[0].limit`, `query.limit`. */
function describeIssue(context: string | undefined, issue: ValidationIssue): FieldProblem {
  const segments = issue.instancePath.split('/').filter(Boolean);
  const extra = issue.params.additionalProperty ?? issue.params.missingProperty;
  if (typeof extra === 'string') segments.push(extra);

  const field = segments
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
  const scope =
    context === 'body' || context === undefined
      ? ''
      : `${context === 'querystring' ? 'query' : context}.`;
  const path = `${scope}${field}` || (context === 'body' ? 'body' : (context ?? 'body'));
  return { path, message: issueMessage(issue) };
}

function issueMessage(issue: ValidationIssue): string {
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'pattern')
    return PATTERN_MESSAGES[String(issue.params.pattern)] ?? 'has the wrong form';
  return issue.message ?? 'is invalid';
}
