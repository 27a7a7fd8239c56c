import { type Command, Option } from 'commander';
import { allPages, contextOf } from '../context.ts';
import { UsageError } from '../errors.ts';
import { duration } from '../format.ts';
import { collect, parseCount, parseDuration, parseExpiry, parseMeta } from '../input.ts';
import type { CreateKeyInput, UpdateKeyInput } from '../types.ts';
import { createdKeyBlock, keyBlock, keysTable } from '../views.ts';
import {
  addClearingOptions,
  addLimitAndCreditOptions,
  creditsChange,
  creditsInput,
  type LimitAndCreditOptions,
} from './settings.ts';

interface CreateOptions extends LimitAndCreditOptions {
  api: string;
  name?: string;
  externalId?: string;
  meta?: Record<string, unknown> | null;
  permission?: string[];
  expires?: string | null;
  prefix?: string;
  disabled?: boolean;
}

interface ListOptions {
  api: string;
  externalId?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
}

interface UpdateOptions extends Omit<LimitAndCreditOptions, 'credits'> {
  limits?: boolean;
  credits?: number | false;
  name?: string | false;
  externalId?: string | false;
  meta?: Record<string, unknown> | null;
  permission?: string[];
  permissions?: false;
  expires?: string | null;
  enable?: boolean;
  disable?: boolean;
}

const EXPIRES_HELP = 'when it expires: ISO 8601 time, or from now such as 30d or 12h';

/** Adds `keys create|list|get|update|revoke|roll`. */
export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('manage API keys');
  addCreate(keys);
  addList(keys);
  keys.command('get').description('show one key').argument('<keyId>').action(getKey);
  addUpdate(keys);

  keys
    .command('revoke')
    .description('revoke a key: it is kept and verifies as REVOKED')
    .argument('<keyId>')
    .option('--permanent', 'erase the key instead; it then verifies as NOT_FOUND')
    .action(revokeKey);

  keys
    .command('roll')
    .description('replace a key by a new secret with the same settings')
    .argument('<keyId>')
    .option(
      '--grace <duration>',
      'keep the old key working this long (1h, 30m, or ms)',
      parseDuration,
    )
    .action(rollKey);

  keys
    .command('credits')
    .description("set, increment or decrement a key's credits (decrement stops at 0)")
    .argument('<keyId>')
    .argument('<operation>', 'set, increment or decrement')
    .argument('<n>', 'a whole number, 0 or more')
    .action(changeCredits);
}

function addCreate(keys: Command): void {
  const create = keys
    .command('create')
    .description('create a key; its secret is printed once')
    .requiredOption('--api <apiId>', 'the API the key belongs to')
    .option('--name <name>', 'a name for people')
    .option('--external-id <id>', 'the customer that owns the key')
    .option('--meta <json>', 'a JSON object returned on every verification', parseMeta)
    .option('--permission <name>', 'grant a permission (repeatable)', collect)
    .option('--expires <when>', EXPIRES_HELP, (value) => parseExpiry(value))
    .option('--prefix <prefix>', "key prefix instead of the API's")
    .option('--disabled', 'create the key disabled');
  addLimitAndCreditOptions(create).action(createKey);
}

function addList(keys: Command): void {
  keys
    .command('list')
    .description("list an API's keys (never their secrets)")
    .requiredOption('--api <apiId>', 'the API whose keys to list')
    .option('--external-id <id>', "only this customer's keys")
    .option('--limit <n>', 'items per page (1-100)', parseCount)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'follow every page')
    .action(listKeys);
}

function addUpdate(keys: Command): void {
  const update = keys
    .command('update')
    .description('change a key; what is not given is kept')
    .argument('<keyId>')
    .option('--name <name>', 'a new name')
    .option('--no-name', 'clear the name')
    .option('--external-id <id>', 'a new owner')
    .option('--no-external-id', 'clear the owner')
    .option('--meta <json>', 'replace meta with this JSON object (null clears it)', parseMeta)
    .addOption(new Option('--permission <name>', 'set permissions (repeatable)').argParser(collect))
    .addOption(new Option('--no-permissions', 'remove every permission').conflicts('permission'))
    .option('--expires <when>', `${EXPIRES_HELP}, or never`, (value) => parseExpiry(value))
    .addOption(new Option('--enable', 'enable the key').conflicts('disable'))
    .addOption(new Option('--disable', 'disable the key'));
  addLimitAndCreditOptions(update);
  addClearingOptions(update).action(updateKey);
}

async function createKey(options: CreateOptions, command: Command): Promise<void> {
  const context = contextOf(command);
  const input: CreateKeyInput = {
    name: options.name,
    externalId: options.externalId,
    meta: options.meta ?? undefined,
    permissions: options.permission,
    enabled: options.disabled ? false : undefined,
    expiresAt: options.expires ?? undefined,
    prefix: options.prefix,
    ratelimits: options.limit,
    credits: creditsInput(options),
  };
  const created = await context.client.createKey(options.api, input);

  if (context.json) return context.printJson(created);
  context.print(createdKeyBlock(created, 'Key created.'));
}

async function listKeys(options: ListOptions, command: Command): Promise<void> {
  const context = contextOf(command);
  const limit = options.limit ?? (options.all ? 100 : undefined);
  const fetchPage = (cursor: string | undefined) =>
    context.client.listKeys(options.api, { externalId: options.externalId, limit, cursor });
  const page = options.all
    ? await allPages(fetchPage, options.cursor)
    : await fetchPage(options.cursor);

  if (context.json) return context.printJson(page);
  if (page.items.length === 0) return context.print('No keys.');

  context.print(keysTable(page.items));
  if (page.nextCursor) {
    context.print(
      `\nMore keys: keygate keys list --api ${options.api} --cursor ${page.nextCursor}`,
    );
  }
}

async function getKey(keyId: string, _options: object, command: Command): Promise<void> {
  const context = contextOf(command);
  const key = await context.client.getKey(keyId);

  if (context.json) return context.printJson(key);
  context.print(keyBlock(key));
}

async function updateKey(keyId: string, options: UpdateOptions, command: Command): Promise<void> {
  const patch = toPatch(options);
  if (Object.keys(patch).length === 0) {
    throw new UsageError(
      'nothing to update: give at least one option (see keygate keys update --help)',
    );
  }
  const context = contextOf(command);
  const key = await context.client.updateKey(keyId, patch);

  if (context.json) return context.printJson(key);
  context.print(`Key updated.\n\n${keyBlock(key)}`);
}

/** The PATCH body of `keys update`: only what was given, `null` for what is to be cleared. */
function toPatch(options: UpdateOptions): UpdateKeyInput {
  const patch: UpdateKeyInput = {};
  if (options.name !== undefined) patch.name = options.name || null;
  if (options.externalId !== undefined) patch.externalId = options.externalId || null;
  if (options.meta !== undefined) patch.meta = options.meta;
  if (options.permission !== undefined) patch.permissions = options.permission;
  if (options.permissions === false) patch.permissions = [];
  if (options.expires !== undefined) patch.expiresAt = options.expires;
  if (options.enable) patch.enabled = true;
  if (options.disable) patch.enabled = false;
  if (options.limit) patch.ratelimits = options.limit;
  if (options.limits === false) patch.ratelimits = [];
  if (options.credits === false) patch.credits = null;
  else {
    const { refill, refillAmount } = options;
    const credits = creditsInput({ credits: options.credits, refill, refillAmount });
    if (credits) patch.credits = credits;
  }
  return patch;
}

async function changeCredits(
  keyId: string,
  op: string,
  value: string,
  _options: object,
  command: Command,
): Promise<void> {
  const change = creditsChange(op, value);
  const context = contextOf(command);
  const key = await context.client.changeKeyCredits(keyId, change);

  if (context.json) return context.printJson(key);
  context.print(`Credits changed.\n\n${keyBlock(key)}`);
}

async function revokeKey(
  keyId: string,
  options: { permanent?: boolean },
  command: Command,
): Promise<void> {
  const context = contextOf(command);
  if (options.permanent) {
    await context.client.deleteKeyPermanently(keyId);
    if (context.json) return context.printJson({ id: keyId, deleted: true });
    return context.print(`Key ${keyId} erased.`);
  }

  const key = await context.client.revokeKey(keyId);
  if (context.json) return context.printJson(key);
  context.print(`Key revoked.\n\n${keyBlock(key)}`);
}

async function rollKey(
  keyId: string,
  options: { grace?: number },
  command: Command,
): Promise<void> {
  const context = contextOf(command);
  const created = await context.client.rollKey(keyId, options.grace);

  if (context.json) return context.printJson(created);
  const until = options.grace
    ? `keeps working for ${duration(options.grace)}`
    : 'stops working now';
  context.print(createdKeyBlock(created, `Key rolled. The old key ${keyId} ${until}.`));
}
