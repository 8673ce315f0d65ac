import { afterEach } from 'vitest';
import { startServer, type ParleyServer } from '../../src/server/server.js';
import { toServerOptions, type TestServerOptions } from './server-options.js';

export { toServerOptions, type TestServerOptions } from './server-options.js';

const running: ParleyServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/**
 * Starts a server on a free loopback port with a silent log, no pacing and a clean
 * environment (nothing from the machine's env leaks in); it is closed after the test.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<ParleyServer> {
  const server = await startServer(
    toServerOptions({
      environment: {},
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      tokenPacingMs: 0,
      shutdownGraceMs: 0,
      database: 'memory',
      ...options,
    }),
  );
  running.push(server);
  return server;
}
