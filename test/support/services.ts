/**
 * The real PostgreSQL and Redis that cluster tests talk to: where they are, whether they answer,
 * and per-test namespaces that let test files run in parallel and leave nothing behind.
 *
 * URLs come from `PARLEY_TEST_POSTGRES_URL` and `PARLEY_TEST_REDIS_URL`. A service that does not
 * answer skips its suites outside CI (with a one-line reason) and fails them with `CI=true`, so a CI
 * machine without the service cannot pass silently (the same rule as test/support/browser.ts).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';

const POSTGRES_URL =
  process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** How long a service may take to answer the first probe before it counts as absent. */
const PROBE_TIMEOUT_MS = 2_000;

/** A service that answered, or why it did not. */
export type ServiceProbe = { url: string; missing?: undefined } | { url: string; missing: string };

/** What a PostgreSQL suite gets: the URL and fresh schemas dropped after the file. */
export interface PostgresService {
  url: string;
  /** A new schema name for one test (or file); the schema is dropped after the test file. */
  freshSchema(): string;
  /** A client on the test database for checks and faults; closed after the test file. */
  connect(): Promise<pg.Client>;
}

/** What a Redis suite gets: the URL and fresh key prefixes whose keys are deleted after the file. */
export interface RedisService {
  url: string;
  /** A new key prefix (`parley-test:<random>:`) for one test; its keys go after the test file. */
  freshPrefix(): string;
  /** A connection for checks and faults; closed after the test file. */
  connect(): Redis;
}

let postgresProbe: Promise<ServiceProbe> | undefined;
let redisProbe: Promise<ServiceProbe> | undefined;

/** Whether the test PostgreSQL answers a query (probed once per test file). */
export function probePostgres(): Promise<ServiceProbe> {
  postgresProbe ??= (async () => {
    const client = new pg.Client({
      connectionString: POSTGRES_URL,
      connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { url: POSTGRES_URL };
    } catch (error) {
      return {
        url: POSTGRES_URL,
        missing: `PostgreSQL at ${redact(POSTGRES_URL)}: ${reason(error)}`,
      };
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return postgresProbe;
}

/** Whether the test Redis answers PING (probed once per test file). */
export function probeRedis(): Promise<ServiceProbe> {
  redisProbe ??= (async () => {
    const redis = new Redis(REDIS_URL, {
      lazyConnect: true,
      connectTimeout: PROBE_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // The socket's own error says more than the command's "Connection is closed."
    let socketError: unknown;
    redis.on('error', (error) => (socketError ??= error));
    try {
      await redis.connect();
      await redis.ping();
      return { url: REDIS_URL };
    } catch (error) {
      const why = reason(socketError ?? error);
      return { url: REDIS_URL, missing: `Redis at ${redact(REDIS_URL)}: ${why}` };
    } finally {
      redis.disconnect();
    }
  })();
  return redisProbe;
}

/**
 * Declares a suite that needs PostgreSQL: skipped with a one-line reason when it is absent outside
 * CI, failing in CI.
 *
 * @example
 * describeWithPostgres(await probePostgres(), 'PostgresEventStore', (postgres) => {
 *   it('...', async () => { const schema = postgres.freshSchema(); ... });
 * });
 */
export function describeWithPostgres(
  probe: ServiceProbe,
  name: string,
  body: (service: PostgresService) => void,
): void {
  if (probe.missing !== undefined) {
    skipOrFail(probe.missing, name);
    return;
  }
  describe(name, () => {
    const schemas: string[] = [];
    const clients: pg.Client[] = [];
    afterAll(async () => {
      const admin = new pg.Client({ connectionString: probe.url });
      await admin.connect();
      try {
        for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
        await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
      }
    });
    body({
      url: probe.url,
      freshSchema: () => {
        const schema = `parley_test_${randomBytes(6).toString('hex')}`;
        schemas.push(schema);
        return schema;
      },
      connect: async () => {
        const client = new pg.Client({ connectionString: probe.url });
        clients.push(client);
        await client.connect();
        return client;
      },
    });
  });
}

/**
 * Declares a suite that needs Redis: skipped with a one-line reason when it is absent outside CI,
 * failing in CI. Keys under the prefixes it handed out are deleted after the file.
 *
 * @example
 * describeWithRedis(await probeRedis(), 'lease', (redis) => {
 *   it('...', async () => { const prefix = redis.freshPrefix(); ... });
 * });
 */
export function describeWithRedis(
  probe: ServiceProbe,
  name: string,
  body: (service: RedisService) => void,
): void {
  if (probe.missing !== undefined) {
    skipOrFail(probe.missing, name);
    return;
  }
  describe(name, () => {
    const prefixes: string[] = [];
    const connections: Redis[] = [];
    afterAll(async () => {
      const admin = new Redis(probe.url);
      try {
        for (const prefix of prefixes) await deleteKeys(admin, prefix);
      } finally {
        admin.disconnect();
        for (const connection of connections) connection.disconnect();
      }
    });
    body({
      url: probe.url,
      freshPrefix: () => {
        const prefix = `parley-test:${randomBytes(6).toString('hex')}:`;
        prefixes.push(prefix);
        return prefix;
      },
      connect: () => {
        const connection = new Redis(probe.url);
        connections.push(connection);
        return connection;
      },
    });
  });
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** Skips a suite with a one-line reason, or in CI fails it with that reason. */
export function skipOrFail(missing: string, name: string): void {
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('reaches its service', () => {
        throw new Error(`${missing} (CI=true, so this suite fails instead of skipping)`);
      });
    });
    return;
  }
  console.warn(`Skipping ${name}: ${missing}`);
  describe.skip(name, () => {
    it('reaches its service', () => undefined);
  });
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The message of an error (the first of an AggregateError), for one-line reasons. */
export function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reason(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}
