/**
 * The `keygate` command: `serve` runs the server; every other command talks to the server at
 * `KEYGATE_URL` with the root key in `KEYGATE_ROOT_KEY`.
 *
 * Exit status: 0 done (and, for `verify`, the key is valid); 1 the server answered with an
 * error, could not be reached, or `verify` found the key not valid; 2 invalid usage.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerApiCommands } from './commands/apis.ts';
import { registerIdentityCommands } from './commands/identities.ts';
import { registerKeyCommands } from './commands/keys.ts';
import { registerRateLimitCommands } from './commands/ratelimit.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerUsageCommand } from './commands/usage.ts';
import { registerVerifyCommand } from './commands/verify.ts';
import { EXIT_USAGE, reportError } from './errors.ts';

/** Builds the whole command tree; commander errors are thrown rather than exiting. */
function buildProgram(): Command {
  const program = new Command('keygate')
    .description('Self-hosted API keys: issue, verify, limit, meter and audit.')
    .version(packageVersion())
    .option('--json', 'print the raw JSON answer (for scripts)')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  registerServeCommand(program);
  registerApiCommands(program);
  registerKeyCommands(program);
  registerIdentityCommands(program);
  registerRateLimitCommands(program);
  registerVerifyCommand(program);
  registerUsageCommand(program);
  return program;
}

/** Runs one command line and answers its exit status. */
async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // Commander has already printed its own message (or the help) by now.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    return reportError(error, (line) => process.stderr.write(`${line}\n`));
  }
}

function packageVersion(): string {
  const path = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

process.exitCode = await run(process.argv);
