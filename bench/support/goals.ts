/**
 * The goals, checked against a run's results. A missed goal is a finding, not an error:
 * the run still succeeds, and the table says by how much.
 */
import type { IdleResult } from '../idle-connections.js';
import type { LatencyResult } from '../moderate-load-latency.js';
import type { FanOutResult } from '../token-fan-out.js';
import type { ThroughputResult } from '../turn-throughput.js';

/** One goal and what the run measured. */
export interface GoalCheck {
  benchmark: string;
  goal: string;
  measured: string;
  met: boolean;
}

/** The results a run may have (a benchmark that was skipped or failed is missing). */
export interface RunResults {
  idle?: IdleResult;
  fanOut?: FanOutResult;
  throughput?: ThroughputResult;
  latency?: LatencyResult;
}

/**
 * Checks every goal whose benchmark ran.
 *
 * @example
 * checkGoals({ fanOut }).filter((goal) => !goal.met);
 */
export function checkGoals(results: RunResults): GoalCheck[] {
  const goals: GoalCheck[] = [];
  const { idle, fanOut, throughput, latency } = results;
  if (idle !== undefined) {
    const top = Math.max(...idle.setup.steps);
    goals.push(
      {
        benchmark: 'idle connections',
        goal: 'RSS per connection ≤ 1.5× raw ws',
        measured: `${idle.ratios.rssVsWs}×`,
        met: idle.ratios.rssVsWs <= 1.5,
      },
      {
        benchmark: 'idle connections',
        goal: 'RSS per connection below Socket.IO',
        measured: `${idle.ratios.rssVsSocketIo}×`,
        met: idle.ratios.rssVsSocketIo < 1,
      },
    );
    const parley = idle.servers.find(
      (server) => server.kind === 'parley' && server.awake === undefined,
    );
    const at10k = parley?.points.find((point) => point.connections === 10_000);
    if (at10k !== undefined) {
      const megabytes = Math.round((at10k.rssMiB * 2 ** 20) / 1e6);
      goals.push({
        benchmark: 'idle connections',
        goal: '10,000 connections under 200 MB RSS',
        measured: `${megabytes} MB`,
        met: megabytes < 200,
      });
    } else {
      goals.push({
        benchmark: 'idle connections',
        goal: '10,000 connections under 200 MB RSS',
        measured: `not measured (largest step ${top})`,
        met: false,
      });
    }
  }
  if (fanOut !== undefined) {
    const frames = fanOut.summary.parley.framesPerSecond;
    goals.push(
      {
        benchmark: 'token fan-out',
        goal: 'frames/s ≥ 0.8× raw ws',
        measured: `${fanOut.ratios.framesVsWs}× (server CPU per frame ${fanOut.ratios.cpuPerFrameVsWs}×)`,
        met: fanOut.ratios.framesVsWs >= 0.8,
      },
      {
        benchmark: 'token fan-out',
        goal: 'frames/s ≥ 1.3× Socket.IO',
        measured: `${fanOut.ratios.framesVsSocketIo}× (server CPU per frame ${fanOut.ratios.cpuPerFrameVsSocketIo}×)`,
        met: fanOut.ratios.framesVsSocketIo >= 1.3,
      },
      {
        benchmark: 'token fan-out',
        goal: '≥ 10,000 frames/s',
        measured: `${frames.toLocaleString('en-US')} frames/s`,
        met: frames >= 10_000,
      },
    );
  }
  if (throughput !== undefined) {
    goals.push({
      benchmark: 'turn throughput',
      goal: `pool bound of ${throughput.setup.concurrency ?? 10} honoured`,
      measured: throughput.scenarios
        .map((scenario) => `${scenario.name}: ${scenario.maxRunning} running max`)
        .join(', '),
      met: throughput.poolBoundHonoured,
    });
  }
  if (latency !== undefined) {
    goals.push({
      benchmark: 'latency at moderate load',
      goal: 'p99 added latency ≤ 2× raw ws',
      measured: `${latency.ratios.p99VsWs}× (${latency.summary.parley.p99.toFixed(2)} ms vs ${latency.summary.ws.p99.toFixed(2)} ms)`,
      met: latency.ratios.p99VsWs <= 2,
    });
  }
  return goals;
}

/**
 * Goals of the event log's own benchmarks (`bench/event-log-append.ts`, `bench/replay-speedup.ts`),
 * read from the JSON they print; a shape this does not know is skipped.
 */
export function externalGoals(eventLog: unknown, replay: unknown): GoalCheck[] {
  const goals: GoalCheck[] = [];
  const log = eventLog as
    | { goalEventsPerSecond?: number; results?: { scenario: string; eventsPerSecond: number }[] }
    | undefined;
  const throughEventLog = log?.results?.find((result) =>
    result.scenario.startsWith('createEventLog'),
  );
  if (log?.goalEventsPerSecond !== undefined && throughEventLog !== undefined) {
    goals.push({
      benchmark: 'event log appends',
      goal: `≥ ${log.goalEventsPerSecond.toLocaleString('en-US')} events/s (embedded SQLite)`,
      measured: `${throughEventLog.eventsPerSecond.toLocaleString('en-US')} events/s (${throughEventLog.scenario})`,
      met: throughEventLog.eventsPerSecond >= log.goalEventsPerSecond,
    });
  }
  const speedups = (replay as { speedup?: number[] } | undefined)?.speedup;
  if (speedups !== undefined && speedups.length > 0) {
    const median =
      [...speedups].sort((left, right) => left - right)[Math.floor(speedups.length / 2)] ?? 0;
    goals.push({
      benchmark: 'replay',
      goal: 'replay ≥ 1000× real time',
      measured: `${median.toLocaleString('en-US')}× (median of ${speedups.length})`,
      met: median >= 1000,
    });
  }
  return goals;
}
