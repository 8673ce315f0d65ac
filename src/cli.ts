#!/usr/bin/env node
/**
 * The `parley` command line. `parley serve` starts the server with configuration from the
 * environment (see README) and shuts down gracefully on SIGINT/SIGTERM, exiting 0.
 */
import { parseArgs } from 'node:util';
import { startServer } from './server/server.js';

const USAGE = `Usage: parley <command> [options]

Commands:
  serve            Start the server (configuration from environment variables; see README)

Options for serve:
  --port <n>       Port to listen on (overrides PORT; default 8080)
  --host <addr>    Interface to bind (overrides HOST; default 127.0.0.1)
  -h, --help       Show this help
`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help === true || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`parley: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const environment = { ...process.env };
  if (values.port !== undefined) environment.PORT = values.port;
  if (values.host !== undefined) environment.HOST = values.host;
  const server = await startServer({ environment });
  process.stdout.write(`parley listening on ${server.url} (chat page: ${server.url}/)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`parley: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
