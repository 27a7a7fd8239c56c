import type { Command } from 'commander';
import { allPages, contextOf } from '../context.ts';
import { parseCount } from '../input.ts';
import { apiBlock, apisTable } from '../views.ts';

interface CreateOptions {
  name: string;
  prefix?: string;
}

interface ListOptions {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

/** Adds `apis create` and `apis list`. */
export function registerApiCommands(program: Command): void {
  const apis = program.command('apis').description('manage APIs (keyspaces)');

  apis
    .command('create')
    .description('create an API; its keys start with its prefix')
    .requiredOption('--name <name>', 'name of the API')
    .option('--prefix <prefix>', 'key prefix: 1-20 of [a-z0-9_], a letter first (default kg)')
    .action(createApi);

  apis
    .command('list')
    .description('list the APIs of the workspace')
    .option('--limit <n>', 'items per page (1-100)', parseCount)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'follow every page')
    .action(listApis);
}

async function createApi(options: CreateOptions, command: Command): Promise<void> {
  const context = contextOf(command);
  const api = await context.client.createApi({ name: options.name, prefix: options.prefix });

  if (context.json) return context.printJson(api);
  context.print(`API created.\n\n${apiBlock(api)}`);
}

async function listApis(options: ListOptions, command: Command): Promise<void> {
  const context = contextOf(command);
  const fetchPage = (cursor: string | undefined) =>
    context.client.listApis({ limit: options.limit ?? (options.all ? 100 : undefined), cursor });
  const page = options.all
    ? await allPages(fetchPage, options.cursor)
    : await fetchPage(options.cursor);

  if (context.json) return context.printJson(page);
  if (page.items.length === 0)
    return context.print('No APIs yet. Create one: keygate apis create --name NAME');

  context.print(apisTable(page.items));
  if (page.nextCursor) context.print(`\nMore APIs: keygate apis list --cursor ${page.nextCursor}`);
}
