import { type Command, InvalidArgumentError } from 'commander';
import { contextOf } from '../context.ts';
import { parseSince } from '../input.ts';
import type { UsageQuery } from '../types.ts';
import { usageReport } from '../views.ts';

interface UsageOptions {
  api?: string;
  key?: string;
  externalId?: string;
  tag?: string;
  from?: string;
  to?: string;
  granularity?: string;
  csv?: boolean;
}

const GRANULARITIES = ['minute', 'hour', 'day'];

/** Adds `usage`: verifications by outcome over time, as a table with trends, JSON or CSV. */
export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description('verifications by outcome over time (the last 24 hours by the hour, by default)')
    .option('--api <apiId>', 'only the keys of this API')
    .option('--key <keyId>', 'only this key')
    .option('--external-id <externalId>', "only this customer's keys")
    .option('--tag <tag>', 'only verifications with this tag')
    .option(
      '--from <time>',
      'start: an ISO time, or a duration back from now (7d)',
      (text: string) => parseSince(text),
    )
    .option(
      '--to <time>',
      'end: an ISO time, or a duration back from now; now by default',
      (text: string) => parseSince(text),
    )
    .option('--granularity <size>', 'bucket size: minute, hour or day', parseGranularity)
    .option('--csv', 'print CSV: time, then a column per outcome, a row per bucket')
    .action(showUsage);
}

async function showUsage(options: UsageOptions, command: Command): Promise<void> {
  const context = contextOf(command);
  const query: UsageQuery = {
    apiId: options.api,
    keyId: options.key,
    externalId: options.externalId,
    tag: options.tag,
    from: options.from,
    to: options.to,
    granularity: options.granularity,
  };

  if (options.csv) return context.print((await context.client.usageCsv(query)).trimEnd());
  const usage = await context.client.usage(query);
  if (context.json) return context.printJson(usage);
  context.print(usageReport(usage));
}

function parseGranularity(text: string): string {
  if (!GRANULARITIES.includes(text)) {
    throw new InvalidArgumentError('Expected minute, hour or day.');
  }
  return text;
}
