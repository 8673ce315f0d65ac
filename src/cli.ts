#!/usr/bin/env node
/**
 * The `parley` command line: `serve`, `config`, `export` and `replay`.
 */
import { parseArgs } from 'node:util';
import { configCommand } from './cli/config-command.js';
import { exportCommand } from './cli/export-command.js';
import { replayCommand } from './cli/replay-command.js';
import { serveCommand } from './cli/serve-command.js';

const USAGE = `Usage: parley <command> [options]

Commands:
  serve                          Start the server (configuration: environment, .env, parley.config.json)
  config                         Print the configuration serve would use, secrets masked, and where
                                 each value came from (default, file, .env, env)
  export [conversation_id]       Print a conversation's event log as JSONL (no id: list conversations)
  replay <file|directory>        Replay recordings and compare every frame; exit 1 on a divergence

Options:
  --port <n>       serve: port to listen on (overrides PORT; default 8080)
  --host <addr>    serve: interface to bind (overrides HOST; default 127.0.0.1)
  --db <path>      export: SQLite event log (overrides PARLEY_DB; default ./data/parley.db)
  --live           replay: call the current model and tools instead of the recorded answers
  --update         replay: rewrite each diverging recording with the replayed session
  --json           config: print JSON instead of a table
  -h, --help       Show this help
`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      live: { type: 'boolean' },
      update: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, argument] = positionals;
  if (values.help === true || command === undefined) {
    process.stdout.write(USAGE);
    return values.help === true ? 0 : 2;
  }
  switch (command) {
    case 'serve':
      return serveCommand(values);
    case 'config':
      return configCommand(values);
    case 'export':
      return exportCommand(argument, values);
    case 'replay':
      return replayCommand(argument, values);
    default:
      process.stderr.write(`parley: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
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
