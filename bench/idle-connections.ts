/**
 * Benchmark 1, idle connections: the server's memory per connection at 1,000, 5,000 and 10,000
 * connections, each joined to a conversation of 10, measured after a forced GC. Compares Parley
 * with raw `ws`, `ws` plus one XState actor per connection, and Socket.IO.
 *
 * Idle Parley connections hibernate (`PARLEY_HIBERNATE_AFTER_MS`, 30 s by default, checked at each
 * heartbeat). So that a step does not wait a minute, Parley runs here with a 5 s heartbeat and
 * 5 s hibernation, and each step is measured once the server reports every connection
 * hibernated: the state the defaults reach after 30–60 s. (With a 2 s heartbeat the pongs'
 * churn left ~0.8 KiB more heap per connection at 10,000: ws's receive buffers grow with them.) The full mode also measures Parley
 * with hibernation off (every connection a running actor), reported apart.
 *
 * Run: `npx tsx bench/idle-connections.ts [--quick] [--json file]`
 */
import { sleep } from './support/clock.js';
import { ensureBuilt } from './support/build.js';
import {
  SERVER_LABELS,
  startClient,
  startServer,
  transportOf,
  type ServerKind,
} from './support/bench-servers.js';
import { parseBenchOptions } from './support/options.js';
import { emitResult, markdownTable, progress, ratio } from './support/report.js';
import type { ProcessUsage } from './support/usage.js';

/** Memory at one connection count. */
export interface IdlePoint {
  connections: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** V8's reserved heap (used + free pages it keeps); RSS − this is memory outside the JS heap. */
  heapTotalMiB: number;
  /** (RSS − RSS with no connections) / connections. */
  rssKiBPerConnection: number;
  /** (heap used − heap used with no connections) / connections. */
  heapKiBPerConnection: number;
  /** Off-heap memory (`external`: socket buffers and the like) per connection. */
  externalKiBPerConnection: number;
  connectSeconds: number;
}

/** The JSON result of this benchmark. */
export interface IdleResult {
  benchmark: 'idle-connections';
  setup: { steps: number[]; participantsPerConversation: number; warmupConnections: number };
  servers: {
    kind: ServerKind;
    label: string;
    /** Parley with hibernation off: every idle connection a running actor. */
    awake?: true;
    baselineRssMiB: number;
    points: IdlePoint[];
  }[];
  ratios: { rssVsWs: number; rssVsSocketIo: number; heapVsWs: number; heapVsSocketIo: number };
  problems: string[];
}

const options = parseBenchOptions();
const build = ensureBuilt();
const steps = [1_000, 5_000, 10_000];
const participants = 10;
const warmupConnections = 200;
/** A server to measure; `awake` is Parley with hibernation off. */
interface Variant {
  kind: ServerKind;
  awake?: true;
}
const variants: Variant[] = options.quick
  ? [{ kind: 'parley' }, { kind: 'ws' }, { kind: 'socketio' }]
  : [
      { kind: 'parley' },
      { kind: 'parley', awake: true },
      { kind: 'ws' },
      { kind: 'ws-xstate' },
      { kind: 'socketio' },
    ];
const MiB = 2 ** 20;
/** Parley's heartbeat and hibernation delay in this benchmark (defaults: 30 s each). */
const HIBERNATION_MS = 5_000;
/** The longest wait for a step's connections to hibernate. */
const HIBERNATION_DEADLINE_MS = 30_000;
const problems: string[] = [];

const labelOf = ({ kind, awake }: Variant) =>
  awake ? `${SERVER_LABELS[kind]} (hibernation off)` : SERVER_LABELS[kind];

async function measureServer(variant: Variant): Promise<IdleResult['servers'][number]> {
  const { kind, awake } = variant;
  const label = labelOf(variant);
  const server = await startServer(build, kind, {
    nodeFlags: ['--expose-gc'],
    // Warm-up conversations (left empty below) stop quickly, so they are not in the baseline.
    env:
      kind === 'parley'
        ? {
            PARLEY_CONVERSATION_IDLE_MS: '500',
            PARLEY_HEARTBEAT_MS: String(HIBERNATION_MS),
            PARLEY_HIBERNATE_AFTER_MS: awake ? '0' : String(HIBERNATION_MS),
          }
        : {},
    verbose: options.verbose,
  });
  /** Waits until the server reports `count` hibernated connections (Parley only). */
  const hibernated = async (count: number) => {
    const deadline = Date.now() + HIBERNATION_DEADLINE_MS;
    for (;;) {
      const stats = await server.child.request<{ hibernated: number }>({ type: 'stats' });
      if (stats.hibernated >= count) return;
      if (Date.now() > deadline) {
        problems.push(`${label}: ${stats.hibernated}/${count} connections hibernated`);
        return;
      }
      await sleep(250);
    }
  };
  const client = startClient(build, options.verbose);
  const connect = (from: number, to: number) =>
    client.request<{ open: number; failed: number; seconds: number }>({
      type: 'connect',
      transport: transportOf(kind),
      port: server.port,
      from,
      to,
      participants,
      concurrency: 50,
    });
  try {
    // Warm up: connect and drop a few hundred clients so the baseline includes compiled code and
    // lazily created state, and the per-connection figures only what connections add.
    await connect(1_000_000, 1_000_000 + warmupConnections);
    await client.request({ type: 'close' });
    await client.stop();
    await sleep(1_500);
    const baseline = await server.child.request<ProcessUsage>({ type: 'measure' });
    const loader = startClient(build, options.verbose);
    const points: IdlePoint[] = [];
    try {
      let open = 0;
      for (const target of steps) {
        const connected = await loader.request<{ open: number; failed: number; seconds: number }>({
          type: 'connect',
          transport: transportOf(kind),
          port: server.port,
          from: open,
          to: target,
          participants,
          concurrency: 50,
        });
        if (connected.failed > 0 || connected.open !== target) {
          problems.push(`${label}: ${connected.open}/${target} connections open`);
        }
        open = target;
        await sleep(1_000);
        if (kind === 'parley' && !awake) await hibernated(target);
        const usage = await server.child.request<ProcessUsage>({ type: 'measure' });
        const perConnection = (field: 'rss' | 'heapUsed' | 'external') =>
          Math.round(((usage.memory[field] - baseline.memory[field]) / target / 1024) * 100) / 100;
        points.push({
          connections: target,
          rssMiB: Math.round((usage.memory.rss / MiB) * 10) / 10,
          heapUsedMiB: Math.round((usage.memory.heapUsed / MiB) * 10) / 10,
          heapTotalMiB: Math.round((usage.memory.heapTotal / MiB) * 10) / 10,
          rssKiBPerConnection: perConnection('rss'),
          heapKiBPerConnection: perConnection('heapUsed'),
          externalKiBPerConnection: perConnection('external'),
          connectSeconds: connected.seconds,
        });
        progress(`${label}: ${target} connections, RSS ${(usage.memory.rss / MiB).toFixed(1)} MiB`);
      }
    } finally {
      await loader.stop();
    }
    return {
      kind,
      label,
      ...(awake ? { awake } : {}),
      baselineRssMiB: Math.round((baseline.memory.rss / MiB) * 10) / 10,
      points,
    };
  } finally {
    await client.stop();
    await server.stop();
  }
}

const servers: IdleResult['servers'] = [];
for (const variant of variants) {
  progress(`idle connections: ${labelOf(variant)}`);
  servers.push(await measureServer(variant));
}

/** The goals are for Parley as configured by default, connections hibernating. */
const at = (kind: ServerKind, connections: number) =>
  servers
    .find((server) => server.kind === kind && server.awake === undefined)
    ?.points.find((point) => point.connections === connections);
const top = steps[steps.length - 1] ?? 0;
/** Parley's figure at the top step over another server's. */
const parleyVs = (kind: ServerKind, field: 'rssKiBPerConnection' | 'heapKiBPerConnection') =>
  ratio(at('parley', top)?.[field] ?? NaN, at(kind, top)?.[field] ?? NaN);
const result: IdleResult = {
  benchmark: 'idle-connections',
  setup: { steps, participantsPerConversation: participants, warmupConnections },
  servers,
  ratios: {
    rssVsWs: parleyVs('ws', 'rssKiBPerConnection'),
    rssVsSocketIo: parleyVs('socketio', 'rssKiBPerConnection'),
    heapVsWs: parleyVs('ws', 'heapKiBPerConnection'),
    heapVsSocketIo: parleyVs('socketio', 'heapKiBPerConnection'),
  },
  problems,
};

const table = markdownTable(
  [
    'server',
    'connections',
    'RSS MiB',
    'heap used MiB',
    'heap total MiB',
    'RSS KiB/conn',
    'heap KiB/conn',
    'step connect s',
  ],
  servers.flatMap((server) =>
    server.points.map((point) => [
      server.label,
      point.connections,
      point.rssMiB,
      point.heapUsedMiB,
      point.heapTotalMiB,
      point.rssKiBPerConnection,
      point.heapKiBPerConnection,
      point.connectSeconds,
    ]),
  ),
);
const ratios = markdownTable(
  [`Parley vs (at ${top.toLocaleString('en-US')})`, 'RSS/conn ratio', 'heap/conn ratio'],
  [
    ['raw ws', result.ratios.rssVsWs, result.ratios.heapVsWs],
    ['Socket.IO', result.ratios.rssVsSocketIo, result.ratios.heapVsSocketIo],
  ],
);
emitResult(
  options,
  'Idle connections (memory after forced GC; conversations of 10)',
  `${table}\n\n${ratios}`,
  result,
);
if (problems.length > 0) {
  process.stderr.write(`bench: problems:\n  ${problems.join('\n  ')}\n`);
  process.exitCode = 1;
}
