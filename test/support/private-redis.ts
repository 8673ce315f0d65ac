/**
 * Redis servers of one test file, for faults (`CLIENT PAUSE`, `SIGKILL`, `SIGSTOP`) that must not
 * stall the shared test Redis: other suites, and other checkouts' suites on the same machine, use
 * it at the same time. Needs the `redis-server` binary (the one .ci/run starts the shared Redis
 * with); without it suites skip outside CI and fail in CI, as in services.ts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe } from 'vitest';
import { reason, skipOrFail, type ServiceProbe } from './services.js';

const REDIS_SERVER = 'redis-server';

/** A throwaway `redis-server` of one test file, for faults that must not stall other suites. */
export interface PrivateRedisService {
  /** Starts a new server on a free loopback port; it is stopped after the test file. */
  start(): Promise<{ url: string; process: ChildProcess }>;
}

let serverProbe: Promise<ServiceProbe> | undefined;

/** Whether `redis-server` can be started here (for tests that pause or stop their Redis). */
export function probeRedisServer(): Promise<ServiceProbe> {
  serverProbe ??= new Promise((resolve) => {
    execFile(REDIS_SERVER, ['--version'], (error) => {
      resolve(
        error === null
          ? { url: 'redis://127.0.0.1' }
          : { url: 'redis://127.0.0.1', missing: `${REDIS_SERVER} cannot run: ${reason(error)}` },
      );
    });
  });
  return serverProbe;
}

/**
 * Declares a suite that starts its own Redis servers: `CLIENT PAUSE` or `SIGSTOP` on the shared
 * test Redis would stall every other suite (and other checkouts' suites) using it.
 *
 * @example
 * describeWithPrivateRedis(await probeRedisServer(), 'lease under a paused Redis', (servers) => {
 *   it('...', async () => { const { url } = await servers.start(); ... });
 * });
 */
export function describeWithPrivateRedis(
  probe: ServiceProbe,
  name: string,
  body: (service: PrivateRedisService) => void,
): void {
  if (probe.missing !== undefined) {
    skipOrFail(probe.missing, name);
    return;
  }
  describe(name, () => {
    const started: ChildProcess[] = [];
    afterAll(() => {
      for (const child of started) child.kill('SIGKILL');
    });
    body({
      start: async () => {
        const port = await freePort();
        const child = spawn(
          REDIS_SERVER,
          ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
          { stdio: 'ignore' },
        );
        started.push(child);
        const url = `redis://127.0.0.1:${port}`;
        const exited = new Promise<never>((_, reject) => {
          child.once('exit', (code) => {
            reject(new Error(`${REDIS_SERVER} on port ${port} exited with ${code}`));
          });
        });
        await Promise.race([waitForPing(url), exited]);
        return { url, process: child };
      },
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Resolves once the new server answers PING; ioredis retries the connection until then. */
async function waitForPing(url: string): Promise<void> {
  const redis = new Redis(url, { retryStrategy: () => 20, maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  try {
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}
