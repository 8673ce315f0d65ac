/**
 * Fan-out across three instances: 100 conversations × 10 participants spread round-robin over
 * three instances (participant j of conversation i on instance (i + j) mod 3), one participant per
 * conversation asking again as soon as an answer completes, for `--seconds` per system. Parley in
 * cluster mode (PostgreSQL log, Redis leases and streams, pacing off, offline model) against
 * Socket.IO with `@socket.io/redis-adapter` on the same Redis (bench/servers/
 * socketio-cluster-server.ts: 20 tokens per answer, no log). Reported per system: frames received
 * per second by all clients, and the latency from a frame's server `timestamp` to its arrival
 * (same machine clock), p50 and p99. Goal (issue 16): Parley's frames/s ≥ 1.3 × Socket.IO's and
 * its p99 ≤ Socket.IO's.
 *
 *   npx tsx bench/cluster-fan-out.ts [--seconds 15] [--conversations 100] [--participants 10]
 *
 * Servers run under tsx here (not compiled as in `npm run bench`): compare the two systems of one
 * run, not with other benchmarks. Stops by itself; drops its schema and Redis keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { io as ioClient, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    conversations: { type: 'string', default: '100' },
    participants: { type: 'string', default: '10' },
  },
});
const seconds = Number(values.seconds);
const conversations = Number(values.conversations);
const participantsPer = Number(values.participants);
const postgresUrl =
  process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const tag = randomBytes(4).toString('hex');
const root = new URL('..', import.meta.url);

function startProcess(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1] !== undefined) resolve({ child, url: match[1] });
    });
    child.once('exit', (code) => {
      reject(new Error(`exited with ${String(code)}: ${output}`));
    });
  });
}

interface Tally {
  frames: number;
  latencies: number[];
  measuring: boolean;
}

function record(tally: Tally, timestamp: number): void {
  if (!tally.measuring) return;
  tally.frames += 1;
  if (tally.frames % 10 === 0) tally.latencies.push(Date.now() - timestamp);
}

function summary(name: string, tally: Tally) {
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  return {
    system: name,
    frames_per_second: Math.round(tally.frames / seconds),
    latency_ms: { p50: at(0.5), p99: at(0.99) },
  };
}

async function measure(tally: Tally): Promise<void> {
  tally.measuring = true;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  tally.measuring = false;
}

async function parley() {
  const env = {
    PARLEY_DB: postgresUrl,
    PARLEY_DB_SCHEMA: `parley_bench_${tag}`,
    PARLEY_REDIS_URL: redisUrl,
    PARLEY_REDIS_PREFIX: `parley-bench:${tag}:`,
    PARLEY_TOKEN_PACING_MS: '0',
    PARLEY_RATE_LIMIT_MESSAGES: '1000000',
    PARLEY_MAX_CONNECTIONS: '100000',
  };
  const servers = [];
  for (let index = 0; index < 3; index += 1) {
    servers.push(
      await startProcess(['src/cli.ts', 'serve'], {
        ...env,
        PARLEY_INSTANCE_ID: `fan-${String(index)}`,
      }),
    );
  }
  const tally: Tally = { frames: 0, latencies: [], measuring: false };
  const sockets: WebSocket[] = [];
  const askers: WebSocket[] = [];
  for (let conversation = 0; conversation < conversations; conversation += 1) {
    for (let participant = 0; participant < participantsPer; participant += 1) {
      const server = servers[(conversation + participant) % 3];
      const socket = new WebSocket(
        `${(server?.url ?? '').replace('http', 'ws')}/ws/chat/fan${String(conversation)}?user_id=u${String(participant)}`,
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
          socket.send(JSON.stringify({ type: 'user_message', content: 'what can you do?' }));
        }
      });
      sockets.push(socket);
      if (participant === 0) askers.push(socket);
    }
  }
  for (const socket of askers) {
    socket.send(JSON.stringify({ type: 'user_message', content: 'what can you do?' }));
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await measure(tally);
  for (const socket of sockets) socket.terminate();
  for (const server of servers) server.child.kill('SIGKILL');
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS parley_bench_${tag} CASCADE`);
  await admin.end();
  return summary('parley (cluster mode, 3 instances)', tally);
}

async function socketIo() {
  const servers = [];
  for (let index = 0; index < 3; index += 1) {
    servers.push(
      await startProcess(['bench/servers/socketio-cluster-server.ts'], {
        BENCH_REDIS_URL: redisUrl,
        BENCH_REDIS_PREFIX: `socketio-bench:${tag}`,
      }),
    );
  }
  const tally: Tally = { frames: 0, latencies: [], measuring: false };
  const sockets: Socket[] = [];
  const askers: Socket[] = [];
  for (let conversation = 0; conversation < conversations; conversation += 1) {
    for (let participant = 0; participant < participantsPer; participant += 1) {
      const server = servers[(conversation + participant) % 3];
      const socket = ioClient(server?.url ?? '', {
        transports: ['websocket'],
        auth: { conversation: `fan${String(conversation)}` },
        forceNew: true,
      });
      await new Promise<void>((resolve) => {
        socket.once('connect', () => {
          resolve();
        });
      });
      socket.on('frame', (frame: { type: string; timestamp: number }) => {
        record(tally, frame.timestamp);
        if (participant === 0 && frame.type === 'agent_response_complete') {
          socket.emit('user_message', 'what can you do?');
        }
      });
      sockets.push(socket);
      if (participant === 0) askers.push(socket);
    }
  }
  // Every member has joined its room on its own instance before the first question.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (const socket of askers) socket.emit('user_message', 'what can you do?');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await measure(tally);
  for (const socket of sockets) socket.disconnect();
  for (const server of servers) server.child.kill('SIGKILL');
  return summary('socket.io + @socket.io/redis-adapter (3 instances)', tally);
}

const results = [await parley(), await socketIo()];
const [ours, theirs] = results;
console.log(JSON.stringify(results, null, 2));
if (ours !== undefined && theirs !== undefined) {
  console.log(
    `frames/s ratio ${(ours.frames_per_second / theirs.frames_per_second).toFixed(2)} (goal ≥ 1.3); p99 ${String(ours.latency_ms.p99)} vs ${String(theirs.latency_ms.p99)} ms (goal ≤)`,
  );
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
