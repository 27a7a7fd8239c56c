import type { Problem } from './types.ts';

/** Invalid input on the command line (a bad duration, bad JSON, a missing setting): exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The server answered with an error status; `problem` is its problem+json body. */
export class ApiProblemError extends Error {
  override name = 'ApiProblemError';

  constructor(
    readonly status: number,
    readonly problem: Problem,
    /** The raw body as the server sent it, for `--json`. */
    readonly body: unknown,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

/** The server could not be reached at all (refused, unknown host, timed out). */
export class ServerUnreachableError extends Error {
  override name = 'ServerUnreachableError';

  constructor(
    readonly url: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot reach keygate at ${url} (${reason})`, options);
  }
}

/** Exit status of a command that failed because of what the user typed or configured. */
export const EXIT_USAGE = 2;
/** Exit status of a command that failed at the server or on the way to it. */
export const EXIT_FAILURE = 1;

/** Writes an error to stderr in the user's terms (never a stack trace); answers the exit status. */
export function reportError(error: unknown, write: (line: string) => void): number {
  if (error instanceof UsageError) {
    write(`error: ${error.message}`);
    return EXIT_USAGE;
  }
  if (error instanceof ApiProblemError) {
    for (const line of describeProblem(error)) write(line);
    return EXIT_FAILURE;
  }
  write(`error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT_FAILURE;
}

function describeProblem(error: ApiProblemError): string[] {
  const { problem, status } = error;
  const code = problem.code ?? problem.title ?? 'ERROR';
  const lines = [`error: ${error.message} (${status} ${code})`];

  for (const entry of problem.errors ?? [])
    lines.push(`  ${entry.path || '(body)'}: ${entry.message}`);
  if (problem.requestId) lines.push(`  request id: ${problem.requestId}`);
  return lines;
}
