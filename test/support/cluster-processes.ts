/**
 * Three (or more) `parley serve` processes sharing one PostgreSQL schema and one Redis key prefix,
 * for cluster tests: each process is a real instance on loopback with its own instance id.
 */
import { once } from 'node:events';
import type { ServerFrame } from '../../src/protocol/frames.js';
import { startParleyProcess } from './parley-process.js';
import { eventFrames } from './test-client.js';

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
