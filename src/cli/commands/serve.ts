import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';

interface ServeOptions {
  port?: string;
  dataDir?: string;
}

/** Adds `serve`, which runs the keygate server in this process. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the keygate server (configured by KEYGATE_* environment variables)')
    .option('--port <port>', 'port to listen on (sets KEYGATE_PORT)', parsePort)
    .option('--data-dir <dir>', 'directory of the embedded store (sets KEYGATE_DATA_DIR)')
    .action(serve);
}

async function serve(options: ServeOptions): Promise<void> {
  if (options.port !== undefined) process.env.KEYGATE_PORT = options.port;
  if (options.dataDir !== undefined) process.env.KEYGATE_DATA_DIR = options.dataDir;

  // Loaded only here, so the client commands never load the server and its backends.
  const { runServer } = await import('../../server/start.ts');
  await runServer();
}

function parsePort(text: string): string {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError('Expected a port number from 0 to 65535.');
  }
  return String(port);
}
