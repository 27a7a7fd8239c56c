import { type Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors.ts';
import {
  collectLimits,
  type LimitOption,
  parseCount,
  parseRefill,
  type RefillOption,
} from '../input.ts';
import type { CreditsChangeInput, CreditsInput } from '../types.ts';

/** The rate-limit and credit options that keys and identities share. */
export interface LimitAndCreditOptions {
  limit?: LimitOption[];
  credits?: number;
  refill?: RefillOption;
  refillAmount?: number;
}

const LIMIT_HELP =
  'a rate limit, [name=]N/DURATION[:token-bucket][:burst=N][:manual][:shadow] (repeatable)';

/** Adds `--limit`, `--credits`, `--refill` and `--refill-amount` to a command. */
export function addLimitAndCreditOptions(command: Command): Command {
  return command
    .option('--limit <limit>', LIMIT_HELP, collectLimits)
    .option('--credits <n>', 'a credit balance; each verification costs 1 by default', parseCount)
    .option('--refill <when>', 'reset the credits daily, monthly or monthly@DAY', parseRefill)
    .option(
      '--refill-amount <n>',
      'what a refill resets the credits to (default: --credits)',
      parseCount,
    );
}

/** Adds `--no-limits` and `--no-credits` to an update command. */
export function addClearingOptions(command: Command): Command {
  return command
    .addOption(new Option('--no-limits', 'remove every rate limit').conflicts('limit'))
    .option('--no-credits', 'make the credits unlimited');
}

/** The credits of the options, or `undefined` when none were given. */
export function creditsInput(options: LimitAndCreditOptions): CreditsInput | undefined {
  if (options.credits === undefined) {
    if (options.refill || options.refillAmount !== undefined) {
      throw new UsageError('--refill and --refill-amount need --credits');
    }
    return undefined;
  }
  if (!options.refill) return { remaining: options.credits };

  const amount = options.refillAmount ?? options.credits;
  return { remaining: options.credits, refill: { ...options.refill, amount } };
}

/** Reads `set|increment|decrement N` of a credits command. */
export function creditsChange(op: string, value: string): CreditsChangeInput {
  if (op !== 'set' && op !== 'increment' && op !== 'decrement') {
    throw new UsageError(`unknown operation "${op}": use set, increment or decrement`);
  }
  try {
    return { op, value: parseCount(value) };
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(`${value}: ${error.message}`);
    throw error;
  }
}
