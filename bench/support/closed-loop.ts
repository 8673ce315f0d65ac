/**
 * One measurement of a server under a closed loop of turns: start the server and the client,
 * connect every participant, let one participant per conversation ask again as soon as each
 * answer completes, warm up, then measure a window on both sides.
 */
import type { ClientReport } from '../clients/bench-client.js';
import { sleep } from './clock.js';
import {
  SERVER_LABELS,
  startClient,
  startServer,
  transportOf,
  type ServerKind,
} from './bench-servers.js';
import type { BenchChild } from './child-process.js';
import { progress } from './report.js';
import { cpuPercent, machineCpuPercent, readMachineCpu, type ProcessUsage } from './usage.js';

/** What to run. */
export interface ClosedLoopSpec {
  kind: ServerKind;
  /** Server environment (`PARLEY_*`, `BENCH_MODEL_*`). */
  env: Record<string, string>;
  conversations: number;
  participants: number;
  /** The `user_message` content the drivers send. */
  content: string;
  warmupMs: number;
  measureMs: number;
  /** Spread of the first messages. @default 100 */
  staggerMs?: number;
  /**
   * After the warm-up, wait up to this long for a second in which other processes use at most
   * {@link CONTENDED_PERCENT} of a core, before measuring. @default 0
   */
  quietWaitMs?: number;
  /** Poll the server's own statistics this often during the window (Parley's pool). */
  pollStatsMs?: number;
  cpuProfile?: string | undefined;
  verbose?: boolean;
}

/** One sample of the server's statistics during the window. */
export interface StatsSample {
  /** Seconds since the window started. */
  t: number;
  stats: Record<string, unknown>;
}

/** Other processes' CPU (percent of one core) above which a window is marked contended. */
export const CONTENDED_PERCENT = 40;

/** What one closed-loop measurement found. */
export interface ClosedLoopResult {
  kind: ServerKind;
  label: string;
  connections: number;
  connectSeconds: number;
  seconds: number;
  framesPerSecond: number;
  turnsPerSecond: number;
  client: ClientReport;
  serverCpuPercent: number;
  /** Server CPU time in the window, in µs. */
  serverCpuMicros: number;
  /** Server CPU time per delivered frame, in µs: the cost, whatever else the machine ran. */
  serverMicrosPerFrame: number;
  /** The whole machine's CPU use in the window (percent of one core; 200 = 2 cores busy). */
  machineCpuPercent: number;
  /** Machine CPU used by processes other than this server and client (noise). */
  otherCpuPercent: number;
  /** Other processes used more than {@link CONTENDED_PERCENT} of a core: read with care. */
  contended: boolean;
  /** The machine was quiet for a second before the window (see `quietWaitMs`). */
  quietBeforeWindow: boolean;
  serverLoopDelay: ProcessUsage['loopDelay'];
  serverRssMiB: number;
  /** Turns still running when the client stopped sending and waited for them. */
  undrained: number;
  samples: StatsSample[];
}

/**
 * Runs one closed-loop measurement and stops every process it started.
 *
 * @example
 * const result = await runClosedLoop(build, { kind: 'ws', conversations: 100, participants: 10, ... });
 */
export async function runClosedLoop(
  build: string,
  spec: ClosedLoopSpec,
): Promise<ClosedLoopResult> {
  const verbose = spec.verbose ?? false;
  const server = await startServer(build, spec.kind, {
    env: spec.env,
    cpuProfile: spec.cpuProfile,
    verbose,
  });
  const client = startClient(build, verbose);
  try {
    const total = spec.conversations * spec.participants;
    const connected = await client.request<{ open: number; failed: number; seconds: number }>({
      type: 'connect',
      transport: transportOf(spec.kind),
      port: server.port,
      from: 0,
      to: total,
      participants: spec.participants,
      concurrency: 50,
    });
    if (connected.failed > 0) {
      throw new Error(`${SERVER_LABELS[spec.kind]}: ${connected.failed} connections failed`);
    }
    progress(
      `${SERVER_LABELS[spec.kind]}: ${connected.open} connections in ${connected.seconds.toFixed(1)} s; warming up`,
    );
    await client.request({
      type: 'start',
      content: spec.content,
      staggerMs: spec.staggerMs ?? 100,
      retryBusyMs: 20,
    });
    await sleep(spec.warmupMs);
    const quietBeforeWindow = await waitForQuiet(server.child, client, spec.quietWaitMs ?? 0);
    const machineStart = readMachineCpu();
    const [serverStart] = await Promise.all([
      server.child.request<ProcessUsage>({ type: 'mark' }),
      client.request({ type: 'mark' }),
    ]);
    const samples: StatsSample[] = [];
    if (spec.pollStatsMs === undefined) {
      await sleep(spec.measureMs);
    } else {
      const started = Date.now();
      while (Date.now() - started < spec.measureMs) {
        const stats = await server.child.request<Record<string, unknown>>({ type: 'stats' });
        samples.push({ t: (Date.now() - started) / 1000, stats });
        await sleep(spec.pollStatsMs);
      }
    }
    const [serverEnd, report] = await Promise.all([
      server.child.request<ProcessUsage>({ type: 'usage' }),
      client.request<ClientReport>({ type: 'report' }),
    ]);
    const machineEnd = readMachineCpu();
    const serverCpu = cpuPercent(serverStart, serverEnd);
    const machine = machineCpuPercent(machineStart, machineEnd);
    const drained = await client.request<{ inFlight: number }>({ type: 'stop', drainMs: 15_000 });
    return {
      kind: spec.kind,
      label: SERVER_LABELS[spec.kind],
      connections: connected.open,
      connectSeconds: connected.seconds,
      seconds: report.seconds,
      framesPerSecond: report.frames / report.seconds,
      turnsPerSecond: report.turns / report.seconds,
      client: report,
      serverCpuPercent: serverCpu,
      serverCpuMicros: serverEnd.cpuMicros - serverStart.cpuMicros,
      serverMicrosPerFrame:
        report.frames === 0
          ? Number.NaN
          : Math.round(((serverEnd.cpuMicros - serverStart.cpuMicros) / report.frames) * 100) / 100,
      machineCpuPercent: machine,
      otherCpuPercent: Math.max(0, Math.round((machine - serverCpu - report.cpuPercent) * 10) / 10),
      contended: machine - serverCpu - report.cpuPercent > CONTENDED_PERCENT,
      quietBeforeWindow,
      serverLoopDelay: serverEnd.loopDelay,
      serverRssMiB: serverEnd.memory.rss / 2 ** 20,
      undrained: drained.inFlight,
      samples,
    };
  } finally {
    await client.stop(5_000);
    await server.stop();
  }
}

/**
 * Waits (at most `maxWaitMs`) for a one-second window in which processes other than this server
 * and client use at most {@link CONTENDED_PERCENT} of a core: other work on a shared machine is
 * the largest source of noise. Returns whether the machine was quiet.
 */
async function waitForQuiet(
  server: BenchChild,
  client: BenchChild,
  maxWaitMs: number,
): Promise<boolean> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const read = () =>
      Promise.all([
        server.request<ProcessUsage>({ type: 'usage' }),
        client.request<ProcessUsage>({ type: 'usage' }),
      ]).then(([serverUsage, clientUsage]) => ({
        serverUsage,
        clientUsage,
        machine: readMachineCpu(),
      }));
    if (Date.now() >= deadline) return false;
    const before = await read();
    await sleep(1_000);
    const after = await read();
    const others =
      machineCpuPercent(before.machine, after.machine) -
      cpuPercent(before.serverUsage, after.serverUsage) -
      cpuPercent(before.clientUsage, after.clientUsage);
    if (others <= CONTENDED_PERCENT) return true;
    if (Date.now() >= deadline) return false;
  }
}

/** Problems a measurement must not have: errors, unexpected closes, lost connections. */
export function problemsOf(result: Omit<ClosedLoopResult, 'samples'>): string[] {
  const problems: string[] = [];
  const { errors, closes } = result.client;
  if (Object.keys(errors).length > 0) problems.push(`errors ${JSON.stringify(errors)}`);
  if (Object.keys(closes).length > 0) problems.push(`closes ${JSON.stringify(closes)}`);
  if (result.client.open < result.connections) {
    problems.push(`${result.connections - result.client.open} connections lost`);
  }
  if (result.client.turns === 0) problems.push('no turn completed');
  return problems.map((problem) => `${result.label}: ${problem}`);
}

/** The server's label, with `*` when other processes competed for the CPU in its window. */
export function labelOf(result: Pick<ClosedLoopResult, 'label' | 'contended'>): string {
  return result.contended ? `${result.label} *` : result.label;
}

/** The result without its statistics samples, for results that do not chart them. */
export function withoutSamples({
  samples: _samples,
  ...rest
}: ClosedLoopResult): Omit<ClosedLoopResult, 'samples'> {
  return rest;
}

/**
 * The runs a summary should average: those no other process competed with, or all of them when
 * every run was contended (the summary then says so through each run's `contended`).
 */
export function quietRuns<TRun extends Pick<ClosedLoopResult, 'contended'>>(
  runs: readonly TRun[],
): TRun[] {
  const quiet = runs.filter((run) => !run.contended);
  return quiet.length > 0 ? quiet : [...runs];
}
