import { readConfigSources } from '../config/config-file.js';
import { startServer } from '../server/server.js';

/**
 * `parley serve`: runs the server until SIGINT/SIGTERM, then shuts down gracefully (exit 0).
 * Settings come from the environment, over `.env`, over `parley.config.json` (or the file
 * `PARLEY_CONFIG` names); `--port` and `--host` win over all of them.
 */
export async function serveCommand(values: { port?: string; host?: string }): Promise<number> {
  const { environment, file } = readConfigSources(process.env);
  if (values.port !== undefined) environment.PORT = values.port;
  if (values.host !== undefined) environment.HOST = values.host;
  const server = await startServer({
    environment,
    ...(file === undefined ? {} : { configFile: file }),
  });
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
