import type { Command } from 'commander';
import { KeygateClient } from './client.ts';
import { UsageError } from './errors.ts';
import type { Page } from './types.ts';

/** Where the command line finds keygate when `KEYGATE_URL` is not set. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** What every client command works with: the client, the output mode and stdout. */
export interface CommandContext {
  client: KeygateClient;
  json: boolean;
  /** Writes one block of text to stdout, ending it with a new line. */
  print(text: string): void;
  /** Writes a value as JSON to stdout, for scripts. */
  printJson(value: unknown): void;
}

/** Builds the context of a command from its options and the environment. */
export function contextOf(command: Command, env: NodeJS.ProcessEnv = process.env): CommandContext {
  const { json } = command.optsWithGlobals<{ json?: boolean }>();
  return {
    client: new KeygateClient(serverUrl(env), rootKey(env)),
    json: json === true,
    print: (text) => process.stdout.write(`${text}\n`),
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

function serverUrl(env: NodeJS.ProcessEnv): string {
  const url = env.KEYGATE_URL || DEFAULT_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(`KEYGATE_URL is not an http(s) URL: ${url}`);
  }
  return url;
}

function rootKey(env: NodeJS.ProcessEnv): string {
  const key = env.KEYGATE_ROOT_KEY?.trim();
  if (!key) {
    throw new UsageError(
      'KEYGATE_ROOT_KEY is not set. Set it to a root key, e.g. ' +
        'export KEYGATE_ROOT_KEY="$(cat .keygate/initial-root-key)" ' +
        '(the key printed when the server first started).',
    );
  }
  return key;
}

/** Follows `nextCursor` from `cursor` until the last page and answers all items as one page. */
export async function allPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  cursor?: string,
): Promise<Page<T>> {
  const items: T[] = [];
  let next = cursor;

  do {
    const page = await fetchPage(next);
    items.push(...page.items);
    next = page.nextCursor ?? undefined;
  } while (next !== undefined);

  return { items, nextCursor: null };
}
