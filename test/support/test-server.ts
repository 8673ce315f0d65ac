import { afterEach } from 'vitest';
import {
  startServer,
  type ParleyServer,
  type StartServerOptions,
} from '../../src/server/server.js';

const running: ParleyServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/**
 * Starts a server on a free loopback port with a silent log, no pacing and a clean
 * environment (nothing from the machine's env leaks in); it is closed after the test.
 */
export async function startTestServer(options: StartServerOptions = {}): Promise<ParleyServer> {
  const server = await startServer({
    environment: {},
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    tokenPacingMs: 0,
    shutdownGraceMs: 0,
    database: 'memory',
    ...options,
  });
  running.push(server);
  return server;
}
