import { type Command, InvalidArgumentError } from 'commander';
import { contextOf } from '../context.ts';
import { EXIT_FAILURE } from '../errors.ts';
import { parseCount, parseDuration } from '../input.ts';
import { limitBlock, overrideBlock } from '../views.ts';

/** A limit as `N/DURATION`, without a name. */
interface Rate {
  limit: number;
  duration: number;
}

function parseRate(text: string): Rate {
  const [count = '', window = ''] = text.trim().split('/');
  if (!/^\d+$/.test(count) || window === '') {
    throw new InvalidArgumentError('Expected N/DURATION such as 10/1m or 0/1h.');
  }
  return { limit: parseCount(count), duration: parseDuration(window) };
}

/** Adds `ratelimit limit` and `ratelimit override set|get|delete`. */
export function registerRateLimitCommands(program: Command): void {
  const ratelimit = program
    .command('ratelimit')
    .description('limit anything (logins, webhooks) by any identifier, with overrides');

  ratelimit
    .command('limit')
    .description('count one call of an identifier; exit status 0 when allowed, 1 when not')
    .argument('<namespace>', 'what is limited, e.g. logins')
    .argument('<identifier>', 'who or what is limited, e.g. an email or an IP address')
    .requiredOption('--rate <N/DURATION>', 'the limit unless an override says otherwise', parseRate)
    .option('--cost <n>', 'how much this call counts (default 1)', parseCount)
    .action(limit);

  const override = ratelimit
    .command('override')
    .description("set, show or delete an identifier's (or a * pattern's) own limit");
  override
    .command('set')
    .argument('<namespace>')
    .argument('<identifier>', 'an identifier, or a pattern where * stands for anything')
    .argument('<N/DURATION>', 'the limit; 0/DURATION blocks', parseRate)
    .action(setOverride);
  override.command('get').argument('<namespace>').argument('<identifier>').action(getOverride);
  override
    .command('delete')
    .argument('<namespace>')
    .argument('<identifier>')
    .action(deleteOverride);
}

async function limit(
  namespace: string,
  identifier: string,
  options: { rate: Rate; cost?: number },
  command: Command,
) {
  const context = contextOf(command);
  const answer = await context.client.limit(namespace, {
    identifier,
    ...options.rate,
    cost: options.cost,
  });

  if (context.json) context.printJson(answer);
  else context.print(limitBlock(answer));
  if (!answer.success) process.exitCode = EXIT_FAILURE;
}

async function setOverride(
  namespace: string,
  identifier: string,
  rate: Rate,
  _options: object,
  command: Command,
) {
  const context = contextOf(command);
  const override = await context.client.setOverride(namespace, identifier, rate);

  if (context.json) return context.printJson(override);
  context.print(`Override set.\n\n${overrideBlock(override)}`);
}

async function getOverride(namespace: string, identifier: string, _o: object, command: Command) {
  const context = contextOf(command);
  const override = await context.client.getOverride(namespace, identifier);

  if (context.json) return context.printJson(override);
  context.print(overrideBlock(override));
}

async function deleteOverride(namespace: string, identifier: string, _o: object, command: Command) {
  const context = contextOf(command);
  await context.client.deleteOverride(namespace, identifier);

  if (context.json) return context.printJson({ namespace, identifier, deleted: true });
  context.print(`Override of ${identifier} in ${namespace} deleted.`);
}
