/**
 * Fan-out across three instances: 100 conversations × 10 participants spread round-robin over
 * three instances (participant j of conversation i on instance (i + j) mod 3, each its own user),
 * one participant per conversation asking again as soon as an answer completes, for `--seconds`
 * per system and round.
 * Parley in cluster mode (PostgreSQL log, Redis leases and streams, pacing off;
 * bench/servers/parley-server.ts) against Socket.IO with `@socket.io/redis-adapter` on the same
 * Redis (bench/servers/socketio-cluster-server.ts). Both stream the same answers from the same
 * bench model (`BENCH_MODEL`, default `stamped`: 100 deltas of 24 characters, 10 per event-loop
 * turn) in the same Parley-shaped frames, so they move the same frames and bytes. Reported per
 * system and round: frames received per second by all clients, and the latency from a frame's
 * server `timestamp` to its arrival (same machine clock), p50 and p99, and the CPU time the three
 * instances and Redis spent per frame received (less at the mercy of a shared machine's load).
 * Goal (issue 16): Parley's frames/s ≥ 1.3 × Socket.IO's and its p99 ≤ Socket.IO's.
 *
 *   npx tsx bench/cluster-fan-out.ts [--seconds 15] [--conversations 100] [--participants 10]
 *     [--rounds 1] [--only parley|socketio] [--profile DIR]
 *
 * Rounds alternate the order of the systems (Parley first in even rounds), so a drift in the
 * machine's load does not always favour the same one. `--profile DIR` runs every instance with
 * `--cpu-prof` and writes its profile to DIR when it shuts down. Servers run under tsx here (not
 * compiled as in `npm run bench`): compare the two systems of one run, not with other benchmarks.
 * Stops by itself; drops its schemas and Redis keys.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { io as ioClient, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { PARLEY_BENCH_ENVIRONMENT } from './support/bench-servers.js';
import { startChild, type BenchChild } from './support/child-process.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    conversations: { type: 'string', default: '100' },
    participants: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
    profile: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const conversations = Number(values.conversations);
const participantsPer = Number(values.participants);
const rounds = Number(values.rounds);
const postgresUrl =
  process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const tag = randomBytes(4).toString('hex');
const question = 'what can you do?';

async function startInstances(
  name: string,
  script: string,
  env: (index: number) => Record<string, string>,
): Promise<BenchChild[]> {
  const instances: BenchChild[] = [];
  for (let index = 0; index < 3; index += 1) {
    const profile =
      values.profile === undefined
        ? []
        : [
            '--cpu-prof',
            // A directory per instance: tsx's loader thread writes a profile of its own.
            `--cpu-prof-dir=${values.profile}/${name}-${String(index)}`,
          ];
    const child = startChild({
      name: `${name} ${String(index)}`,
      script: fileURLToPath(new URL(script, import.meta.url)),
      nodeFlags: ['--import', 'tsx', ...profile],
      env: env(index),
    });
    instances.push(child);
  }
  const ports = await Promise.all(instances.map((child) => child.next('ready')));
  return instances.map((child, index) =>
    Object.assign(child, { url: `http://127.0.0.1:${String(ports[index]?.port)}` }),
  );
}

function urlOf(child: BenchChild | undefined): string {
  return (child as (BenchChild & { url: string }) | undefined)?.url ?? '';
}

interface Tally {
  frames: number;
  /** Completions the askers received: frames / answers / participants is the frames per answer. */
  answers: number;
  latencies: number[];
  measuring: boolean;
}

function record(tally: Tally, timestamp: number): void {
  if (!tally.measuring) return;
  tally.frames += 1;
  if (tally.frames % 10 === 0) tally.latencies.push(Date.now() - timestamp);
}

function summary(name: string, tally: Tally, cpu: Awaited<ReturnType<typeof measure>>) {
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  return {
    system: name,
    frames_per_second: Math.round(tally.frames / seconds),
    answers_per_second: Math.round(tally.answers / seconds),
    latency_ms: { p50: at(0.5) ?? NaN, p99: at(0.99) ?? NaN },
    ...cpu,
  };
}

/** CPU seconds Redis has used so far (`INFO cpu`), the same server for both systems. */
async function redisCpuSeconds(): Promise<number> {
  const redis = new Redis(redisUrl);
  const info = await redis.info('cpu');
  redis.disconnect();
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** CPU microseconds the instances have used so far (user + system). */
async function instancesCpuMicros(servers: readonly BenchChild[]): Promise<number> {
  const usages = await Promise.all(
    servers.map((server) => server.request<{ cpuMicros: number }>({ type: 'usage' })),
  );
  return usages.reduce((sum, usage) => sum + usage.cpuMicros, 0);
}

/**
 * Waits two seconds for every conversation to be answering, then measures for `--seconds`: the
 * frames the clients receive, and the CPU the instances and Redis spend meanwhile.
 */
async function measure(tally: Tally, servers: readonly BenchChild[]) {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const [instancesBefore, redisBefore] = await Promise.all([
    instancesCpuMicros(servers),
    redisCpuSeconds(),
  ]);
  tally.measuring = true;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  tally.measuring = false;
  const [instancesAfter, redisAfter] = await Promise.all([
    instancesCpuMicros(servers),
    redisCpuSeconds(),
  ]);
  const perFrame = (micros: number) => Math.round((100 * micros) / Math.max(1, tally.frames)) / 100;
  return {
    instances_cpu_us_per_frame: perFrame(instancesAfter - instancesBefore),
    redis_cpu_us_per_frame: perFrame((redisAfter - redisBefore) * 1e6),
  };
}

async function parley(round: number) {
  const schema = `parley_bench_${tag}_${String(round)}`;
  const servers = await startInstances('parley', './servers/parley-server.ts', (index) => ({
    ...PARLEY_BENCH_ENVIRONMENT,
    PARLEY_DB: postgresUrl,
    PARLEY_DB_SCHEMA: schema,
    PARLEY_REDIS_URL: redisUrl,
    PARLEY_REDIS_PREFIX: `parley-bench:${tag}:${String(round)}:`,
    PARLEY_INSTANCE_ID: `fan-${String(index)}`,
  }));
  const tally: Tally = { frames: 0, answers: 0, latencies: [], measuring: false };
  const sockets: WebSocket[] = [];
  const askers: WebSocket[] = [];
  for (let conversation = 0; conversation < conversations; conversation += 1) {
    for (let participant = 0; participant < participantsPer; participant += 1) {
      const server = servers[(conversation + participant) % 3];
      const socket = new WebSocket(
        `${urlOf(server).replace('http', 'ws')}/ws/chat/fan${String(conversation)}?user_id=u${String(conversation)}-${String(participant)}`,
      );
      await new Promise<void>((resolve, reject) => {
        socket.once('message', () => {
          resolve();
        });
        socket.once('error', reject);
      });
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as { type: string; timestamp: number };
        record(tally, frame.timestamp);
        if (participant === 0 && frame.type === 'agent_response_complete') {
          if (tally.measuring) tally.answers += 1;
          socket.send(JSON.stringify({ type: 'user_message', content: question }));
        }
      });
      sockets.push(socket);
      if (participant === 0) askers.push(socket);
    }
  }
  for (const socket of askers) {
    socket.send(JSON.stringify({ type: 'user_message', content: question }));
  }
  const cpu = await measure(tally, servers);
  for (const socket of sockets) socket.terminate();
  await Promise.all(servers.map((server) => server.stop()));
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  return summary('parley (cluster mode, 3 instances)', tally, cpu);
}

async function socketIo(round: number) {
  const servers = await startInstances('socketio', './servers/socketio-cluster-server.ts', () => ({
    BENCH_REDIS_URL: redisUrl,
    BENCH_REDIS_PREFIX: `socketio-bench:${tag}:${String(round)}`,
  }));
  const tally: Tally = { frames: 0, answers: 0, latencies: [], measuring: false };
  const sockets: Socket[] = [];
  const askers: Socket[] = [];
  for (let conversation = 0; conversation < conversations; conversation += 1) {
    for (let participant = 0; participant < participantsPer; participant += 1) {
      const server = servers[(conversation + participant) % 3];
      const socket = ioClient(urlOf(server), {
        transports: ['websocket'],
        auth: {
          conversation: `fan${String(conversation)}`,
          user_id: `u${String(conversation)}-${String(participant)}`,
        },
        forceNew: true,
      });
      // The welcome, as Parley's client waits for its own.
      await new Promise<void>((resolve) => {
        socket.once('frame', () => {
          resolve();
        });
      });
      socket.on('frame', (frame: { type: string; timestamp: number }) => {
        record(tally, frame.timestamp);
        if (participant === 0 && frame.type === 'agent_response_complete') {
          if (tally.measuring) tally.answers += 1;
          socket.emit('user_message', { type: 'user_message', content: question });
        }
      });
      sockets.push(socket);
      if (participant === 0) askers.push(socket);
    }
  }
  for (const socket of askers)
    socket.emit('user_message', { type: 'user_message', content: question });
  const cpu = await measure(tally, servers);
  for (const socket of sockets) socket.disconnect();
  await Promise.all(servers.map((server) => server.stop()));
  return summary('socket.io + @socket.io/redis-adapter (3 instances)', tally, cpu);
}

const systems = [
  { name: 'parley', run: parley },
  { name: 'socketio', run: socketIo },
].filter((system) => values.only === undefined || system.name === values.only);
const results = [];
for (let round = 0; round < rounds; round += 1) {
  const order = round % 2 === 0 ? systems : [...systems].reverse();
  const byName: Record<string, Awaited<ReturnType<typeof parley>>> = {};
  for (const system of order) byName[system.name] = await system.run(round);
  const ours = byName.parley;
  const theirs = byName.socketio;
  const load = (await import('node:os')).loadavg().map((each) => each.toFixed(2));
  results.push({ round, load_average: load, ...byName });
  console.log(JSON.stringify({ round, load_average: load, ours, theirs }));
  if (ours !== undefined && theirs !== undefined) {
    console.log(
      `round ${String(round)}: frames/s ratio ${(ours.frames_per_second / theirs.frames_per_second).toFixed(2)} (goal ≥ 1.3); p50 ${String(ours.latency_ms.p50)} vs ${String(theirs.latency_ms.p50)} ms; p99 ${String(ours.latency_ms.p99)} vs ${String(theirs.latency_ms.p99)} ms (goal ≤)`,
    );
  }
}
const redis = new Redis(redisUrl);
for (const pattern of [`parley-bench:${tag}:*`, `socketio-bench:${tag}*`]) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
redis.disconnect();
process.exit(0);
