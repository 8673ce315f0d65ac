/**
 * Three (or more) `parley serve` processes sharing one PostgreSQL schema and one Redis key prefix,
 * for cluster tests: each process is a real instance on loopback with its own instance id.
 */
import { once } from 'node:events';
import type { ServerFrame } from '../../src/protocol/frames.js';
import { startParleyProcess } from './parley-process.js';
import {
  describeWithPostgres,
  describeWithRedis,
  probePostgres,
  probeRedis,
  type PostgresService,
  type ServiceProbe,
} from './services.js';
import { connectClient, eventFrames, type TestClient } from './test-client.js';

/** One started instance. */
export type ClusterInstance = Awaited<ReturnType<typeof startParleyProcess>> & { id: string };

/** The environment every instance of one test cluster shares. */
export function clusterEnvironment(options: {
  postgresUrl: string;
  schema: string;
  redisUrl: string;
  prefix: string;
  leaseMs?: number;
  pacingMs?: number;
}): Record<string, string> {
  return {
    PARLEY_DB: options.postgresUrl,
    PARLEY_DB_SCHEMA: options.schema,
    PARLEY_REDIS_URL: options.redisUrl,
    PARLEY_REDIS_PREFIX: options.prefix,
    PARLEY_LEASE_MS: String(options.leaseMs ?? 1_000),
    PARLEY_TOKEN_PACING_MS: String(options.pacingMs ?? 20),
    PARLEY_RATE_LIMIT_MESSAGES: '1000',
  };
}

/** Starts one instance named `id`. */
export async function startInstance(
  environment: Record<string, string>,
  id: string,
): Promise<ClusterInstance> {
  const started = await startParleyProcess({ ...environment, PARLEY_INSTANCE_ID: id });
  return { ...started, id };
}

/** Kills an instance with SIGKILL and waits for it to exit. */
export async function kill9(instance: ClusterInstance): Promise<void> {
  if (instance.child.exitCode !== null) return;
  const exited = once(instance.child, 'exit');
  instance.child.kill('SIGKILL');
  await exited;
}

/** The cluster status an instance's `/health` reports. */
export async function clusterHealth(instance: ClusterInstance): Promise<{
  instance_id: string;
  redis: { ok: boolean };
  postgres: { ok: boolean };
  owned: number;
  followed: number;
}> {
  const response = await fetch(`${instance.url}/health`);
  const body = (await response.json()) as { cluster: never };
  return body.cluster;
}

/** Seqs of the event frames a client got, with any duplicate or gap visible. */
export function seqsOf(frames: readonly ServerFrame[]): number[] {
  return eventFrames(frames).map((frame) => frame.seq);
}

/** Whether `seqs` counts up by one from its first element. */
export function isGapless(seqs: readonly number[]): boolean {
  return seqs.every((seq, index) => index === 0 || seq === (seqs[index - 1] ?? 0) + 1);
}

/** The value, or an error naming what was missing (instead of a non-null assertion). */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`missing: ${what}`);
  return value;
}

/** Resolves once `check` holds for the instance's cluster health (polled; bounded by the test). */
export async function healthUntil(
  instance: ClusterInstance,
  check: (health: Awaited<ReturnType<typeof clusterHealth>>) => boolean,
): Promise<void> {
  for (;;) {
    const health = await clusterHealth(instance).catch(() => undefined);
    if (health !== undefined && check(health)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Each message content sent: its echo (accepted) or an error answering it (refused):
 * `cluster_unavailable` (Redis, or the owner, unavailable) or `log_unavailable` (PostgreSQL).
 */
export function outcomes(client: TestClient, contents: readonly string[]) {
  const echoes = new Set(
    client.frames
      .filter((frame) => frame.type === 'user_message')
      .map((frame) => (frame as { content: string }).content),
  );
  const refusals = client.frames.filter(
    (frame) => frame.type === 'error' && (frame as { code: string }).code === 'cluster_unavailable',
  ).length;
  const accepted = contents.filter((content) => echoes.has(content));
  return { accepted, refused: refusals, lost: contents.length - accepted.length - refusals };
}

/** The event frames from seq `seq` on. */
export function eventsFrom(frames: readonly ServerFrame[], seq: number): ServerFrame[] {
  return eventFrames(frames).filter((frame) => frame.seq >= seq);
}

/**
 * Sends a frame, and again after a short backoff each time the cluster refuses it with
 * `cluster_unavailable` (what docs/WEBSOCKET_API.md tells a client to do: the conversation was
 * moving, and the input may not have been taken). Returns a function that stops the resending.
 */
export function sendUntilTaken(
  client: TestClient,
  frame: { type: string; [field: string]: unknown },
): () => void {
  const timers = new Set<NodeJS.Timeout>();
  const onMessage = (data: Buffer) => {
    const reply = JSON.parse(data.toString('utf8')) as {
      type: string;
      code?: string;
      in_reply_to?: string;
    };
    if (reply.type !== 'error' || reply.code !== 'cluster_unavailable') return;
    if (reply.in_reply_to !== frame.type) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      client.send(frame);
    }, 100);
    timers.add(timer);
  };
  client.socket.on('message', onMessage);
  client.send(frame);
  return () => {
    client.socket.off('message', onMessage);
    for (const timer of timers) clearTimeout(timer);
  };
}

/**
 * Sends `content` from `sender` until the cluster takes it ({@link sendUntilTaken}), waits for the
 * completion `answer` at `reader`, then until the sender has it too; resolves with it.
 */
export async function answeredAt(
  sender: TestClient,
  reader: TestClient,
  content: string,
  answer: string,
) {
  const stop = sendUntilTaken(sender, { type: 'user_message', content });
  try {
    const complete = await reader.waitForType(
      'agent_response_complete',
      (frame) => frame.content === answer,
    );
    await sender.waitFor((frame) => frame.seq === complete.seq);
    return complete;
  } finally {
    stop();
  }
}

/** Probes the test PostgreSQL and Redis, for {@link describeCluster}. */
export async function probeCluster(): Promise<{ postgres: ServiceProbe; redis: ServiceProbe }> {
  const [postgres, redis] = await Promise.all([probePostgres(), probeRedis()]);
  return { postgres, redis };
}

/**
 * A suite on the test PostgreSQL and Redis (skipped with a reason when one is absent, failing in
 * CI): `environment()` gives each test of it a fresh schema and Redis key prefix.
 */
export function describeCluster(
  probes: { postgres: ServiceProbe; redis: ServiceProbe },
  body: (cluster: { environment: () => Record<string, string>; postgres: PostgresService }) => void,
): void {
  describeWithPostgres(probes.postgres, 'with PostgreSQL', (postgres) => {
    describeWithRedis(probes.redis, 'and Redis', (redis) => {
      body({
        postgres,
        environment: () =>
          clusterEnvironment({
            postgresUrl: postgres.url,
            schema: postgres.freshSchema(),
            redisUrl: redis.url,
            prefix: redis.freshPrefix(),
          }),
      });
    });
  });
}

/**
 * Two instances `a` and `b` on one environment with a private Redis at `redisUrl`, alice
 * connected to `a` and bob to `b`; `joinedAt` is the seq of bob's welcome.
 */
export async function alicePlusBob(options: {
  postgres: PostgresService;
  redisUrl: string;
  conversationId: string;
}) {
  const env = clusterEnvironment({
    postgresUrl: options.postgres.url,
    schema: options.postgres.freshSchema(),
    redisUrl: options.redisUrl,
    prefix: 'parley:',
  });
  const [a, b] = await Promise.all([startInstance(env, 'a'), startInstance(env, 'b')]);
  const alice = await connectClient(a.url, options.conversationId, 'alice');
  const bob = await connectClient(b.url, options.conversationId, 'bob');
  const joinedAt = (await bob.waitForType('welcome')).seq;
  return { a, b, alice, bob, joinedAt };
}
