import type { Command } from 'commander';
import { contextOf } from '../context.ts';
import { EXIT_FAILURE, UsageError } from '../errors.ts';
import { parseCount, parseNamedLimit } from '../input.ts';
import { verifyBlock } from '../views.ts';

interface VerifyOptions {
  api?: string;
  permissions?: string;
  cost?: number;
  ratelimit?: { name: string; cost?: number }[];
}

/** Adds `verify`, which exits 0 for a valid key and 1 for any other outcome. */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('verify a key as an API would; exit status 0 when valid, 1 when not')
    .argument('<key>', 'the key, or - to read it from stdin (keeps it out of shell history)')
    .option('--api <apiId>', 'accept only keys of this API')
    .option('--permissions <query>', 'required permissions, e.g. "read AND (write OR admin)"')
    .option('--cost <n>', 'credits to charge (default 1)', parseCount)
    .option(
      '--ratelimit <name[=cost]>',
      'also apply this limit of the key (repeatable)',
      parseNamedLimit,
    )
    .action(verifyKey);
}

async function verifyKey(key: string, options: VerifyOptions, command: Command): Promise<void> {
  const context = contextOf(command);
  const presented = key === '-' ? await readKeyFromStdin() : key;
  const result = await context.client.verifyKey({
    key: presented,
    apiId: options.api,
    permissions: options.permissions,
    cost: options.cost,
    ratelimits: options.ratelimit,
  });

  if (context.json) context.printJson(result);
  else context.print(verifyBlock(result));
  // A script tests the outcome by the exit status, as with `grep -q`.
  if (!result.valid) process.exitCode = EXIT_FAILURE;
}

async function readKeyFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);

  const key = Buffer.concat(chunks).toString('utf8').trim();
  if (!key) throw new UsageError('no key on stdin');
  return key;
}
