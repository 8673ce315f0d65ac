/**
 * Failover time of cluster mode: three `parley serve` processes share PostgreSQL and Redis, one
 * conversation has a participant on each; the owner is killed with SIGKILL mid-answer, `--kills`
 * times (default 20), and each time the clock runs from the kill to the first frame of the new
 * owner at a participant of a surviving instance (the cut-off turn's `interrupted` completion).
 * Goal (issue 16): p99 ≤ lease time + 2 s. Also checks every participant's seqs for gaps and
 * duplicates across all kills (clients of the killed instance resume on a survivor).
 *
 *   npx tsx bench/cluster-failover.ts [--kills 20] [--lease-ms 2000] [--json out.json]
 *
 * Needs PostgreSQL and Redis (PARLEY_TEST_POSTGRES_URL, PARLEY_TEST_REDIS_URL, or loopback
 * defaults); uses a fresh schema and key prefix and drops them at the end. Stops by itself.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { spawn } from 'node:child_process';
import { connectClient, eventFrames, type TestClient } from '../test/support/test-client.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    'lease-ms': { type: 'string', default: '2000' },
    json: { type: 'string' },
  },
});
const kills = Number(values.kills);
const leaseMs = Number(values['lease-ms']);
const postgresUrl =
  process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const tag = randomBytes(4).toString('hex');
const schema = `parley_bench_${tag}`;
const prefix = `parley-bench:${tag}:`;
const environment = {
  PARLEY_DB: postgresUrl,
  PARLEY_DB_SCHEMA: schema,
  PARLEY_REDIS_URL: redisUrl,
  PARLEY_REDIS_PREFIX: prefix,
  PARLEY_LEASE_MS: String(leaseMs),
  PARLEY_TOKEN_PACING_MS: '20',
  PARLEY_RATE_LIMIT_MESSAGES: '100000',
};

/** `parley serve` as a process of its own (test/support/parley-process.ts needs vitest). */
function startParleyProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: new URL('..', import.meta.url),
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise<{ child: typeof child; url: string }>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1] !== undefined) resolve({ child, url: match[1] });
    });
    child.once('exit', (code) => {
      reject(new Error(`parley exited with ${String(code)}: ${output}`));
    });
  });
}

type Instance = Awaited<ReturnType<typeof startParleyProcess>>;
let generation = 0;
const start = () =>
  startParleyProcess({ ...environment, PARLEY_INSTANCE_ID: `bench-${String(generation++)}` });

async function ownerIndex(instances: Instance[]): Promise<number> {
  for (;;) {
    const owned = await Promise.all(
      instances.map(async (instance) => {
        const health = (await (await fetch(`${instance.url}/health`)).json()) as {
          cluster: { owned: number };
        };
        return health.cluster.owned;
      }),
    );
    const index = owned.indexOf(1);
    if (index >= 0) return index;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function seqs(clients: TestClient[]): number[] {
  return clients.flatMap((client) => eventFrames(client.frames).map((frame) => frame.seq));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const instances = await Promise.all([start(), start(), start()]);
const users = ['alice', 'bob', 'carol'];
const participants = await Promise.all(
  users.map(async (user, index) => [
    await connectClient(instances[index]?.url ?? '', 'failover', user),
  ]),
);
const failovers: number[] = [];
try {
  for (let kill = 0; kill < kills; kill += 1) {
    const owner = await ownerIndex(instances);
    const killed = instances[owner];
    if (killed === undefined) throw new Error('no owner');
    // A participant on another instance asks; the answer is cut at a random token.
    const onKilled = (client: TestClient | undefined) =>
      client?.socket.url.startsWith(killed.url.replace('http', 'ws')) === true;
    const watcher = participants.map((clients) => clients.at(-1)).find((c) => !onKilled(c));
    if (watcher === undefined) throw new Error('no watcher');
    const before = watcher.frames.length;
    watcher.send({ type: 'user_message', content: 'what can you do?' });
    const cut = 1 + Math.floor(Math.random() * 10);
    await watcher.waitFor(
      (frame) =>
        watcher.frames.indexOf(frame) >= before &&
        frame.type === 'agent_response_chunk' &&
        frame.index === cut,
    );
    const lastSeq = eventFrames(watcher.frames).at(-1)?.seq ?? 0;
    const killedAt = performance.now();
    const exited = once(killed.child, 'exit');
    killed.child.kill('SIGKILL');
    await exited;
    const replacement = start();
    const complete = await watcher.waitFor(
      (frame) => frame.seq > lastSeq && frame.type !== 'agent_response_chunk',
    );
    failovers.push(performance.now() - killedAt);
    if (complete.type !== 'agent_response_complete') {
      throw new Error(`expected the interrupted completion first, got ${complete.type}`);
    }
    // The killed instance's participants resume on a survivor.
    const survivors = instances.filter((instance) => instance !== killed);
    for (const [index, clients] of participants.entries()) {
      const lastClient = clients.at(-1);
      if (!onKilled(lastClient)) continue;
      await lastClient?.closed;
      const since = seqs(clients).at(-1) ?? 0;
      // To the survivor with the fewest participants, so that one stays away from each owner.
      const load = (instance: Instance) =>
        participants.filter((each) =>
          each.at(-1)?.socket.url.startsWith(instance.url.replace('http', 'ws')),
        ).length;
      const target = [...survivors].sort((x, y) => load(x) - load(y))[0];
      const user = users[index] ?? 'x';
      const resumed = await connectClient(target?.url ?? '', 'failover', user, {
        query: `user_id=${user}&since=${String(since)}`,
      });
      clients.push(resumed);
      await resumed.waitFor((frame) => frame.seq >= complete.seq);
    }
    instances[owner] = await replacement;
    // The moved participant now sits on a survivor; keep one participant per instance index.
    process.stdout.write(
      `kill ${String(kill + 1)}/${String(kills)}: ${failovers.at(-1)?.toFixed(0) ?? ''} ms\n`,
    );
  }
} finally {
  for (const instance of instances) instance.child.kill('SIGKILL');
}

let gaps = 0;
let duplicates = 0;
for (const clients of participants) {
  const seen = seqs(clients).filter((seq) => seq > 3);
  for (let index = 1; index < seen.length; index += 1) {
    const step = (seen[index] ?? 0) - (seen[index - 1] ?? 0);
    if (step > 1) gaps += 1;
    if (step < 1) duplicates += 1;
  }
}
const sorted = [...failovers].sort((a, b) => a - b);
const result = {
  kills,
  lease_ms: leaseMs,
  failover_ms: {
    p50: Math.round(percentile(sorted, 50)),
    p99: Math.round(percentile(sorted, 99)),
    max: Math.round(sorted.at(-1) ?? NaN),
  },
  goal_p99_ms: leaseMs + 2000,
  goal_met: percentile(sorted, 99) <= leaseMs + 2000,
  gaps,
  duplicates,
};
console.log(JSON.stringify(result, null, 2));
if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2));

const admin = new pg.Client({ connectionString: postgresUrl });
await admin.connect();
await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
await admin.end();
const redis = new Redis(redisUrl);
let cursor = '0';
do {
  const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length > 0) await redis.unlink(...keys);
} while (cursor !== '0');
redis.disconnect();
process.exit(0);
