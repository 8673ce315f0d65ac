/**
 * The charts of a run: memory against connections, fan-out throughput, latency at moderate
 * load, and the worker pool's queue over time.
 */
import type { IdleResult } from '../idle-connections.js';
import type { LatencyResult } from '../moderate-load-latency.js';
import type { TokenCostResult } from '../token-cost.js';
import type { FanOutResult } from '../token-fan-out.js';
import type { ThroughputResult } from '../turn-throughput.js';
import type { ServerKind } from './bench-servers.js';
import { barChart, lineChart } from './svg.js';

/** A colour per server, the same in every chart. */
export const SERVER_COLORS: Record<ServerKind, string> = {
  parley: '#d9480f',
  ws: '#1c7ed6',
  'ws-corked': '#0b3d91',
  'ws-xstate': '#74c0fc',
  socketio: '#2b8a3e',
  'socketio-corked': '#105e26',
};

/** Server RSS against open connections, with the 200 MB goal. */
export function memoryChart(idle: IdleResult): string {
  return lineChart({
    title: 'Server RSS after forced GC vs idle connections',
    xLabel: 'open connections (conversations of 10)',
    yLabel: 'RSS (MiB)',
    series: idle.servers.map((server) => ({
      name: server.label,
      color: SERVER_COLORS[server.kind],
      dashed: server.kind === 'ws-xstate' || server.awake === true,
      points: [
        [0, server.baselineRssMiB],
        ...server.points.map((point): [number, number] => [point.connections, point.rssMiB]),
      ],
    })),
    guides: [{ label: 'goal: 200 MB at 10,000', y: 200e6 / 2 ** 20 }],
  });
}

/** Frames delivered per second in the fan-out benchmark, per round and server. */
export function throughputChart(fanOut: FanOutResult): string {
  return barChart({
    title: 'Token fan-out, best case: frames delivered per second (100 × 10, pacing off)',
    yLabel: 'frames / s',
    groups: fanOutGroups(fanOut, (run) => Math.round(run?.framesPerSecond ?? 0)),
    guides: [{ label: 'goal: 10,000 frames/s', y: 10_000 }],
  });
}

/** Server CPU time per delivered frame in the fan-out benchmark: the cost, whatever the noise. */
export function cpuPerFrameChart(fanOut: FanOutResult): string {
  return barChart({
    title: 'Token fan-out, best case: server CPU per delivered frame (lower is better)',
    yLabel: 'µs of server CPU / frame',
    groups: fanOutGroups(fanOut, (run) => run?.serverMicrosPerFrame ?? 0),
  });
}

type FanOutRun = FanOutResult['shapes'][number]['runs'][number];

/** One bar group per round of the best-case shape, one bar per server, valued by `value`. */
function fanOutGroups(fanOut: FanOutResult, value: (run: FanOutRun | undefined) => number) {
  const best = fanOut.shapes.find((entry) => entry.shape.name === 'best-case');
  const runs = best?.runs ?? [];
  const kinds = best?.shape.kinds ?? [];
  const rounds = [...new Set(runs.map((run) => run.round))];
  return rounds.map((round) => ({
    label: `round ${round}`,
    bars: kinds.map((kind) => {
      const run = runs.find((each) => each.kind === kind && each.round === round);
      return { name: run?.label ?? kind, value: value(run), color: SERVER_COLORS[kind] };
    }),
  }));
}

/** Server CPU per token and tokens/s against concurrent streams (per-token cost benchmark). */
export function tokenCostChart(cost: TokenCostResult): string {
  return lineChart({
    title: 'Per-token cost: server CPU per token as streams are added (100 tokens/s each)',
    xLabel: 'concurrent streams (1 participant each)',
    yLabel: 'µs of server CPU / token',
    series: [
      {
        name: 'Parley',
        color: SERVER_COLORS.parley,
        points: cost.steps.map((step): [number, number] => [
          step.streams,
          step.serverMicrosPerToken,
        ]),
      },
    ],
    guides: [{ label: 'goal: 20 µs', y: 20 }],
  });
}

/** Token latency percentiles at moderate load. */
export function latencyChart(latency: LatencyResult): string {
  // Runs saved before the corked peer have no `ws-corked`.
  const kinds = (['parley', 'ws', 'ws-corked', 'socketio'] as const).filter(
    (kind) => kind in latency.summary,
  );
  const labels = {
    parley: 'Parley',
    ws: 'raw ws',
    'ws-corked': 'raw ws, corked',
    socketio: 'Socket.IO',
  };
  return barChart({
    title: 'Latency at 100 tokens/s per conversation (10 × 10, external model)',
    yLabel: 'ms (token produced → participant)',
    groups: (['p50', 'p99', 'p999'] as const).map((percentile) => ({
      label: percentile === 'p999' ? 'p99.9' : percentile,
      bars: kinds.map((kind) => ({
        name: labels[kind],
        value: Math.round(latency.summary[kind][percentile] * 100) / 100,
        color: SERVER_COLORS[kind],
      })),
    })),
  });
}

/** Running and waiting turns over the throughput window. */
export function queueChart(throughput: ThroughputResult): string {
  const scenario = throughput.scenarios.find((each) => each.name === 'model-latency');
  const queue = scenario?.queue ?? [];
  return lineChart({
    title: 'Worker pool during the turn-throughput window (model-latency)',
    xLabel: 'seconds',
    yLabel: 'turns',
    series: [
      {
        name: 'waiting',
        color: '#ae3ec9',
        points: queue.map(([t, , waiting]): [number, number] => [t, waiting]),
      },
      {
        name: 'running',
        color: SERVER_COLORS.parley,
        points: queue.map(([t, running]): [number, number] => [t, running]),
      },
    ],
    guides: [
      {
        label: `pool bound ${throughput.setup.concurrency ?? 10}`,
        y: throughput.setup.concurrency ?? 10,
      },
      {
        label: `queue limit ${throughput.setup.queueLimit ?? 100}`,
        y: throughput.setup.queueLimit ?? 100,
      },
    ],
  });
}
