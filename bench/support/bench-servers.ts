/**
 * Starting the servers under comparison and the load-generating client, each in its own process.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Transport } from '../clients/client-protocol.js';
import { benchScript } from './build.js';
import { startChild, type BenchChild } from './child-process.js';

/**
 * The servers the benchmarks compare. `-corked` peers cork each socket for the rest of the tick,
 * as Parley does (see `servers/ws-server.ts` and `servers/socketio-server.ts`).
 */
export type ServerKind =
  'parley' | 'ws' | 'ws-corked' | 'ws-xstate' | 'socketio' | 'socketio-corked';

/** How each server is named in tables. */
export const SERVER_LABELS: Record<ServerKind, string> = {
  parley: 'Parley',
  ws: 'raw ws',
  'ws-corked': 'raw ws, corked',
  'ws-xstate': 'ws + XState actor',
  socketio: 'Socket.IO',
  'socketio-corked': 'Socket.IO, corked',
};

/**
 * Node flags for every benchmark server, Parley and its peers alike (`BENCH_SERVER_NODE_FLAGS`,
 * space-separated; none by default, as `npm start`), to measure a V8 setting on all of them at
 * once, e.g. `BENCH_SERVER_NODE_FLAGS=--max-semi-space-size=32`.
 */
export const SERVER_NODE_FLAGS: readonly string[] = (process.env.BENCH_SERVER_NODE_FLAGS ?? '')
  .split(' ')
  .filter((flag) => flag !== '');

/** Each server's script under `bench/servers/` and its own environment. */
const SERVER_SCRIPTS: Record<ServerKind, { script: string; env: Record<string, string> }> = {
  parley: { script: 'servers/parley-server', env: {} },
  ws: { script: 'servers/ws-server', env: {} },
  'ws-corked': { script: 'servers/ws-server', env: { BENCH_CORK: '1' } },
  'ws-xstate': { script: 'servers/ws-server', env: { BENCH_XSTATE: '1' } },
  socketio: { script: 'servers/socketio-server', env: {} },
  'socketio-corked': { script: 'servers/socketio-server', env: { BENCH_CORK: '1' } },
};

/**
 * Parley's configuration for benchmarks: no pacing, no rate limit, room for every connection,
 * and the inspector off as in production (development mode, which the benchmark clients need
 * for `?user_id=`, would otherwise turn it on).
 */
export const PARLEY_BENCH_ENVIRONMENT: Record<string, string> = {
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  PARLEY_DEV_MODE: '1',
  PARLEY_INSPECTOR: '0',
  PARLEY_TOKEN_PACING_MS: '0',
  PARLEY_RATE_LIMIT_MESSAGES: '1000000',
  PARLEY_MAX_CONNECTIONS: '100000',
  PARLEY_MAX_PARTICIPANTS: '100000',
  PARLEY_TURN_TIMEOUT_MS: '600000',
  PARLEY_SHUTDOWN_GRACE_MS: '0',
};

/** A started server. */
export interface RunningServer {
  kind: ServerKind;
  child: BenchChild;
  port: number;
  /** Shuts the server down and removes its event-log file. */
  stop(): Promise<void>;
}

let databases = 0;

/** Options for {@link startServer}. */
export interface StartServerOptions {
  /** Extra environment (`PARLEY_*`, `BENCH_MODEL_*`). */
  env?: Record<string, string>;
  /** Node flags, e.g. `--expose-gc`. */
  nodeFlags?: readonly string[];
  /** Profile the Parley server into this folder. */
  cpuProfile?: string | undefined;
  verbose?: boolean;
}

/**
 * Starts one server process and waits until it listens.
 *
 * @example
 * const server = await startServer(build, 'ws', { env: { BENCH_MODEL_TOKENS: '100' } });
 */
export async function startServer(
  build: string,
  kind: ServerKind,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const { script, env: kindEnv } = SERVER_SCRIPTS[kind];
  const profile =
    kind === 'parley' && options.cpuProfile !== undefined
      ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProfile)}`]
      : [];
  // Each Parley server logs to a fresh SQLite file (the embedded default), removed afterwards,
  // so no run restores conversations from an earlier one.
  databases += 1;
  const database = join(tmpdir(), `parley-bench-${process.pid}-${databases}.db`);
  const child = startChild({
    name: `${SERVER_LABELS[kind]} server`,
    script: benchScript(build, script),
    nodeFlags: [...SERVER_NODE_FLAGS, ...(options.nodeFlags ?? []), ...profile],
    env: {
      ...(kind === 'parley' ? { ...PARLEY_BENCH_ENVIRONMENT, PARLEY_DB: database } : {}),
      ...kindEnv,
      ...options.env,
    },
    verbose: options.verbose ?? false,
  });
  const stop = async () => {
    await child.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${database}${suffix}`, { force: true });
  };
  try {
    const ready = await child.next('ready', 30_000);
    return { kind, child, port: ready.port as number, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The external model process (`servers/sse-model-server.ts`). */
export interface RunningModelServer {
  child: BenchChild;
  /** `http://127.0.0.1:<port>/v1` */
  baseUrl: string;
  /** What a benchmark server needs to stream from it (see `servers/model-from-environment.ts`). */
  serverEnv: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts the external model: an OpenAI-compatible SSE server stamping each token as it writes it.
 *
 * @example
 * const model = await startModelServer(build, { BENCH_SSE_TOKENS_PER_SECOND: '100' });
 * await startServer(build, 'parley', { env: model.serverEnv });
 */
export async function startModelServer(
  build: string,
  env: Record<string, string>,
  verbose = false,
): Promise<RunningModelServer> {
  const child = startChild({
    name: 'model server',
    script: benchScript(build, 'servers/sse-model-server'),
    env,
    verbose,
  });
  const ready = await child.next('ready', 30_000);
  const baseUrl = `http://127.0.0.1:${String(ready.port)}/v1`;
  return {
    child,
    baseUrl,
    serverEnv: { BENCH_MODEL: 'sse', BENCH_MODEL_BASE_URL: baseUrl },
    stop: () => child.stop(),
  };
}

/** Starts the load-generating client process. */
export function startClient(build: string, verbose = false): BenchChild {
  return startChild({
    name: 'bench client',
    script: benchScript(build, 'clients/bench-client'),
    verbose,
  });
}

/** The client library that talks to a server. */
export function transportOf(kind: ServerKind): Transport {
  return kind === 'socketio' || kind === 'socketio-corked' ? 'socketio' : 'ws';
}

/** The servers in round `round`: the given order, reversed every other round. */
export function orderForRound<T>(kinds: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...kinds] : [...kinds].reverse();
}
