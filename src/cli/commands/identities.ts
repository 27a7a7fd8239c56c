import type { Command } from 'commander';
import { allPages, contextOf } from '../context.ts';
import { UsageError } from '../errors.ts';
import { parseCount, parseMeta } from '../input.ts';
import type { IdentityInput } from '../types.ts';
import { identitiesTable, identityBlock } from '../views.ts';
import {
  addClearingOptions,
  addLimitAndCreditOptions,
  creditsChange,
  creditsInput,
  type LimitAndCreditOptions,
} from './settings.ts';

interface IdentityOptions extends Omit<LimitAndCreditOptions, 'credits'> {
  meta?: Record<string, unknown> | null;
  credits?: number | false;
  limits?: boolean;
}

/** Adds `identities create|list|get|update|delete|credits`. */
export function registerIdentityCommands(program: Command): void {
  const identities = program
    .command('identities')
    .description('manage identities: customers whose keys share rate limits and credits');

  const create = identities
    .command('create')
    .description('create an identity; keys with its external id share its limits and credits')
    .argument('<externalId>', 'the customer, as keys name it in --external-id')
    .option('--meta <json>', 'a JSON object kept with the identity', parseMeta);
  addLimitAndCreditOptions(create).action(createIdentity);

  identities
    .command('list')
    .description('list the identities of the workspace')
    .option('--limit <n>', 'items per page (1-100)', parseCount)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'follow every page')
    .action(listIdentities);

  identities.command('get').description('show one identity').argument('<externalId>').action(get);

  const update = identities
    .command('update')
    .description('change an identity; what is not given is kept')
    .argument('<externalId>')
    .option('--meta <json>', 'replace meta with this JSON object (null clears it)', parseMeta);
  addLimitAndCreditOptions(update);
  addClearingOptions(update).action(updateIdentity);

  identities
    .command('delete')
    .description('delete an identity; its keys stay and stop sharing its limits and credits')
    .argument('<externalId>')
    .action(deleteIdentity);

  identities
    .command('credits')
    .description("set, increment or decrement an identity's shared credits")
    .argument('<externalId>')
    .argument('<operation>', 'set, increment or decrement')
    .argument('<n>', 'a whole number, 0 or more')
    .action(changeCredits);
}

/** The body that create and update send: only what was given, `null` for what is cleared. */
function identityInput(options: IdentityOptions): IdentityInput {
  const input: IdentityInput = {};
  if (options.meta !== undefined) input.meta = options.meta;
  if (options.limit) input.ratelimits = options.limit;
  if (options.limits === false) input.ratelimits = null;
  if (options.credits === false) input.credits = null;
  else {
    const { refill, refillAmount } = options;
    const credits = creditsInput({ credits: options.credits, refill, refillAmount });
    if (credits) input.credits = credits;
  }
  return input;
}

async function createIdentity(externalId: string, options: IdentityOptions, command: Command) {
  const context = contextOf(command);
  const identity = await context.client.createIdentity({ externalId, ...identityInput(options) });

  if (context.json) return context.printJson(identity);
  context.print(`Identity created.\n\n${identityBlock(identity)}`);
}

async function listIdentities(
  options: { limit?: number; cursor?: string; all?: boolean },
  command: Command,
) {
  const context = contextOf(command);
  const limit = options.limit ?? (options.all ? 100 : undefined);
  const fetchPage = (cursor: string | undefined) =>
    context.client.listIdentities({ limit, cursor });
  const page = options.all
    ? await allPages(fetchPage, options.cursor)
    : await fetchPage(options.cursor);

  if (context.json) return context.printJson(page);
  if (page.items.length === 0) return context.print('No identities.');
  context.print(identitiesTable(page.items));
  if (page.nextCursor) {
    context.print(`\nMore identities: keygate identities list --cursor ${page.nextCursor}`);
  }
}

async function get(externalId: string, _options: object, command: Command) {
  const context = contextOf(command);
  const identity = await context.client.getIdentity(externalId);

  if (context.json) return context.printJson(identity);
  context.print(identityBlock(identity));
}

async function updateIdentity(externalId: string, options: IdentityOptions, command: Command) {
  const input = identityInput(options);
  if (Object.keys(input).length === 0) {
    throw new UsageError(
      'nothing to update: give at least one option (see keygate identities update --help)',
    );
  }
  const context = contextOf(command);
  const identity = await context.client.updateIdentity(externalId, input);

  if (context.json) return context.printJson(identity);
  context.print(`Identity updated.\n\n${identityBlock(identity)}`);
}

async function deleteIdentity(externalId: string, _options: object, command: Command) {
  const context = contextOf(command);
  await context.client.deleteIdentity(externalId);

  if (context.json) return context.printJson({ externalId, deleted: true });
  context.print(`Identity ${externalId} deleted; its keys stay.`);
}

async function changeCredits(
  externalId: string,
  op: string,
  value: string,
  _options: object,
  command: Command,
) {
  const change = creditsChange(op, value);
  const context = contextOf(command);
  const identity = await context.client.changeIdentityCredits(externalId, change);

  if (context.json) return context.printJson(identity);
  context.print(`Credits changed.\n\n${identityBlock(identity)}`);
}
