/**
 * Compares the engine's hot path in two builds of Parley in one run, to catch a regression from a
 * refactoring: `npx tsx bench/compare-builds.ts <base-dist> <head-dist> [--rounds 6]`, where each
 * `dist` is the output of `npm run build` of a checkout (e.g. a `git worktree` of the base commit).
 *
 * Each round starts one child process per build, alternating which goes first. A child creates
 * the engine in-process with an SQLite log, joins `participants` sockets that only count frames,
 * and runs `turns` turns of a model that streams `tokens` tokens as fast as the engine takes them
 * (pacing 0). It reports the process CPU time (user + system) per streamed token and per delivered
 * frame over the measured turns, after warm-up turns. CPU time is read from the child itself, so
 * other work on the machine moves it far less than wall-clock rates.
 *
 * `--concurrent`: 100 one-participant conversations whose turns run together (1-2 tokens per
 * tick), the shape of `token-cost.ts` under load without its sockets, with the SQLite log and with
 * the memory store (what the log costs is the difference). It reports the main thread's CPU too
 * (from /proc, Linux only), which leaves out the checkpoint worker. With `BENCH_ALLOC=1` each
 * child also reports the bytes it allocated per token (V8's sampling heap profiler, collected
 * objects included), at some cost to its CPU figures.
 *
 * Only the engine's public shape is used (`createEngine`, `loadConfig`, `SqliteEventStore`,
 * `MemoryEventStore`, `openConnection`), which both builds share.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What one child measures. */
interface Sample {
  cpuMicrosPerToken: number;
  cpuMicrosPerFrame: number;
  /** The main thread alone (undefined where /proc is not). */
  mainMicrosPerToken?: number;
  /** With BENCH_ALLOC=1: bytes allocated per token. */
  bytesPerToken?: number;
  frames: number;
  tokens: number;
}

const CHILD = `
const [dist, database, participantsText, turnsText, tokensText, perTickText = '0', thread = 'main', conversationsText = '1', storeKind = 'sqlite'] = process.argv.slice(2);
const participants = Number(participantsText), turns = Number(turnsText), tokens = Number(tokensText);
const perTick = Number(perTickText), conversations = Number(conversationsText);
const { readFileSync } = await import('node:fs');
const { createEngine } = await import(dist + '/src/engine.js');
const { loadConfig } = await import(dist + '/src/config.js');
const { SqliteEventStore } = await import(dist + '/src/event-log/sqlite-store.js');
const { WorkerSqliteEventStore } = await import(dist + '/src/event-log/worker-sqlite-store.js');
const { MemoryEventStore } = await import(dist + '/src/event-log/memory-store.js');
const config = loadConfig({}, {
  database, tokenPacingMs: 0, logLevel: 'silent', turnTimeoutMs: 600000, rateLimitMessages: 1000000,
  turnConcurrency: Math.max(10, conversations), turnQueueSize: Math.max(100, conversations), userTurnQueueSize: 0,
});
const model = {
  specificationVersion: 'parley.model.v1', provider: 'bench', modelId: 'tokens',
  async *stream() {
    // perTick > 0: packets of 2, 1, 2, 1 … (up to perTick) tokens, each in its own tick (issue 15's shape).
    let left = 0, size = 1;
    for (let index = 0; index < tokens; index += 1) {
      if (perTick > 0 && left === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        size = (size % perTick) + 1;
        left = size;
      }
      left -= 1;
      yield { type: 'text-delta', delta: ' token' };
    }
    yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: tokens } };
  },
};
const store = storeKind === 'memory'
  ? new MemoryEventStore()
  : thread === 'worker' ? await WorkerSqliteEventStore.open(database) : SqliteEventStore.open(database);
const engine = createEngine({ config, model, store });
let frames = 0;
const rooms = [];
for (let room = 0; room < conversations; room += 1) {
  const entry = { done: () => {}, handles: [] };
  for (let index = 0; index < participants; index += 1) {
    const socket = {
      send(data) { frames += 1; if (index === 0 && data.includes('"agent_response_complete"')) entry.done(); },
      close() {}, terminate() {}, ping() {},
    };
    entry.handles.push(await engine.openConnection({ userId: 'user' + room + '-' + index, conversationId: 'bench' + room, socket }));
  }
  rooms.push(entry);
}
const turn = () => Promise.all(rooms.map((entry) => new Promise((resolve) => {
  entry.done = resolve;
  entry.handles[0].send({ type: 'frame.received', frame: { type: 'user_message', content: 'go' } });
})));
// The main thread's CPU in clock ticks (10 ms), from /proc; undefined elsewhere.
const mainTicks = () => {
  try {
    const fields = readFileSync('/proc/self/task/' + process.pid + '/stat', 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch { return undefined; }
};
for (let warm = 0; warm < 3; warm += 1) await turn();
let session;
if (process.env.BENCH_ALLOC === '1') {
  const { Session } = await import('node:inspector/promises');
  session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
const startFrames = frames;
const startTicks = mainTicks();
const start = process.cpuUsage();
for (let index = 0; index < turns; index += 1) await turn();
const used = process.cpuUsage(start);
const endTicks = mainTicks();
const micros = used.user + used.system;
const delivered = frames - startFrames;
const streamed = turns * tokens * conversations;
let bytesPerToken;
if (session !== undefined) {
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let bytes = 0;
  const walk = (node) => { bytes += node.selfSize; node.children.forEach(walk); };
  walk(profile.head);
  bytesPerToken = Math.round(bytes / streamed);
}
await engine.stop();
await engine.dispose();
process.stdout.write(JSON.stringify({
  cpuMicrosPerToken: micros / streamed, cpuMicrosPerFrame: micros / delivered, frames: delivered, tokens: streamed,
  mainMicrosPerToken: startTicks === undefined || endTicks === undefined ? undefined : ((endTicks - startTicks) * 10000) / streamed,
  bytesPerToken,
}));
`;

function childScript(directory: string): string {
  const path = join(directory, 'child.mjs');
  writeFileSync(path, CHILD);
  return path;
}

interface Shape {
  participants: number;
  turns: number;
  tokens: number;
  /** 0: every token in one tick; n: packets of 1..n tokens, one per tick. */
  perTick: number;
  thread: 'main' | 'worker';
  /** Conversations whose turns run together. @default 1 */
  conversations?: number;
  /** The log's store. @default 'sqlite' */
  store?: 'sqlite' | 'memory';
}

async function sample(
  dist: string,
  { participants, turns, tokens, perTick, thread, conversations = 1, store = 'sqlite' }: Shape,
) {
  const directory = mkdtempSync(join(tmpdir(), 'parley-compare-'));
  try {
    const { stdout } = await run(
      process.execPath,
      [
        // BENCH_CPU_PROF=<dir>: each child writes a CPU profile under <dir>/<base|head>-<n>p.
        ...(process.env.BENCH_CPU_PROF === undefined
          ? []
          : [
              '--cpu-prof',
              `--cpu-prof-dir=${join(process.env.BENCH_CPU_PROF, `${dist === builds.base ? 'base' : 'head'}-${participants}p-${conversations}c-${store}`)}`,
            ]),
        // A file, not --eval: a worker thread (the log's, with thread 'worker') inherits execArgv,
        // and --input-type fails there.
        childScript(directory),
        dist,
        join(directory, 'log.db'),
        String(participants),
        String(turns),
        String(tokens),
        String(perTick),
        thread,
        String(conversations),
        store,
      ],
      { maxBuffer: 1 << 20 },
    );
    return JSON.parse(stdout) as Sample;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const [baseArgument, headArgument] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
if (baseArgument === undefined || headArgument === undefined) {
  process.stderr.write(
    'usage: npx tsx bench/compare-builds.ts <base-dist> <head-dist> [--rounds N] [--ticked | --concurrent]\n',
  );
  process.exit(2);
}
const roundsIndex = process.argv.indexOf('--rounds');
const rounds = roundsIndex > 0 ? Number(process.argv[roundsIndex + 1]) : 6;
const builds = { base: resolve(baseArgument), head: resolve(headArgument) };
// --ticked: only issue 15's per-token shape (1 participant, 1-2 tokens per tick), with the log
// written from the main thread and from a worker.
// --concurrent: 100 conversations at once, 1-2 tokens per tick, with the SQLite log and without.
const shapes: Shape[] = process.argv.includes('--concurrent')
  ? [
      { participants: 1, turns: 10, tokens: 200, perTick: 2, thread: 'main', conversations: 100 },
      {
        participants: 1,
        turns: 10,
        tokens: 200,
        perTick: 2,
        thread: 'main',
        conversations: 100,
        store: 'memory',
      },
    ]
  : process.argv.includes('--ticked')
    ? [
        { participants: 1, turns: 20, tokens: 200, perTick: 2, thread: 'main' },
        { participants: 1, turns: 20, tokens: 200, perTick: 2, thread: 'worker' },
      ]
    : [
        { participants: 1, turns: 40, tokens: 200, perTick: 0, thread: 'main' },
        { participants: 10, turns: 20, tokens: 200, perTick: 0, thread: 'main' },
      ];
for (const shape of shapes) {
  const results: Record<keyof typeof builds, Sample[]> = { base: [], head: [] };
  for (let round = 0; round < rounds; round += 1) {
    const order: (keyof typeof builds)[] = round % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
    for (const name of order) {
      results[name].push(await sample(builds[name], shape));
    }
  }
  const line = (name: keyof typeof builds) => {
    const perToken = results[name].map((item) => item.cpuMicrosPerToken);
    const perFrame = results[name].map((item) => item.cpuMicrosPerFrame);
    const main = results[name].flatMap((item) => item.mainMicrosPerToken ?? []);
    const bytes = results[name].flatMap((item) => item.bytesPerToken ?? []);
    return [
      `${name}: ${median(perToken).toFixed(1)} µs/token (${Math.min(...perToken).toFixed(1)}–${Math.max(...perToken).toFixed(1)}), ${median(perFrame).toFixed(2)} µs/frame`,
      main.length === 0 ? '' : `, main thread ${median(main).toFixed(1)} µs/token`,
      bytes.length === 0 ? '' : `, ${median(bytes)} bytes allocated/token`,
    ].join('');
  };
  const ratio =
    median(results.head.map((item) => item.cpuMicrosPerToken)) /
    median(results.base.map((item) => item.cpuMicrosPerToken));
  process.stdout.write(
    `${shape.conversations ?? 1} conversation(s) of ${shape.participants} participant(s), ${shape.turns} turns × ${shape.tokens} tokens, ${shape.perTick === 0 ? 'all in one tick' : `1-${shape.perTick} per tick`}, ${shape.store === 'memory' ? 'memory store' : `log on the ${shape.thread} thread`}, ${rounds} rounds\n  ${line('base')}\n  ${line('head')}\n  head/base CPU per token: ${ratio.toFixed(2)}\n`,
  );
}
