/**
 * One measurement of a server under a closed loop of turns: start the server (and the external
 * model when asked), start the client processes, connect every participant, let one participant
 * per conversation ask again as soon as each answer completes, warm up, then measure a window on
 * every side. Server CPU comes from the server process itself (`process.cpuUsage()`, every thread
 * of it: the log's checkpoint thread too).
 */
import { cpus as cpuList } from 'node:os';
import type { BenchChild } from './child-process.js';
import { sleep } from './clock.js';
import {
  SERVER_LABELS,
  startModelServer,
  startServer,
  transportOf,
  type RunningModelServer,
  type ServerKind,
} from './bench-servers.js';
import { LoadGenerators, type ClientReport } from './load-generators.js';
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
  /** Client processes sharing the connections. @default 1 */
  clients?: number;
  /**
   * Stream from the external model process, started with this environment (`BENCH_SSE_*`), so
   * token stamps are taken outside the server under test.
   */
  modelEnv?: Record<string, string>;
  /** Spread of the first messages. @default 100 */
  staggerMs?: number;
  /**
   * After the warm-up, wait up to this long for a second in which other processes use at most
   * {@link CONTENDED_PERCENT} of a core, before measuring. @default 0
   */
  quietWaitMs?: number;
  /** Poll the server's own statistics this often during the window (Parley's pool). */
  pollStatsMs?: number;
  /** After the window, how long the turns in flight may take to finish. @default 15000 */
  drainMs?: number;
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

/** What the external model process did in the window. */
export interface ModelServerWindow {
  cpuPercent: number;
  /** Its worst lateness writing a due token, in ms: above a few ms, the model itself lagged. */
  maxLagMs: number;
  maxActive: number;
}

/** What one closed-loop measurement found. */
export interface ClosedLoopResult {
  kind: ServerKind;
  label: string;
  connections: number;
  connectSeconds: number;
  seconds: number;
  framesPerSecond: number;
  /** Tokens the model produced and the asking participant received, per second. */
  tokensPerSecond: number;
  turnsPerSecond: number;
  client: ClientReport;
  serverCpuPercent: number;
  /** Server CPU time in the window, in µs. */
  serverCpuMicros: number;
  /** Server CPU time per delivered frame, in µs: the cost, whatever else the machine ran. */
  serverMicrosPerFrame: number;
  /** Server CPU time per token the model produced (all its frames to all participants), in µs. */
  serverMicrosPerToken: number;
  /** The whole machine's CPU use in the window (percent of one core; 200 = 2 cores busy). */
  machineCpuPercent: number;
  /** Machine CPU used by processes other than this server, model and clients (noise). */
  otherCpuPercent: number;
  /** Other processes used more than {@link CONTENDED_PERCENT} of a core: read with care. */
  contended: boolean;
  /** Every core was busy (machine CPU ≥ 95 % of all cores): some process waited for a core. */
  machineSaturated: boolean;
  /** The machine was quiet for a second before the window (see `quietWaitMs`). */
  quietBeforeWindow: boolean;
  serverLoopDelay: ProcessUsage['loopDelay'];
  serverRssMiB: number;
  model?: ModelServerWindow;
  /** Turns still running when the client stopped sending and waited for them. */
  undrained: number;
  samples: StatsSample[];
}

const round2 = (value: number) => Math.round(value * 100) / 100;

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
  let model: RunningModelServer | undefined;
  if (spec.modelEnv !== undefined) model = await startModelServer(build, spec.modelEnv, verbose);
  const server = await startServer(build, spec.kind, {
    env: { ...spec.env, ...model?.serverEnv },
    cpuProfile: spec.cpuProfile,
    verbose,
  }).catch(async (error: unknown) => {
    await model?.stop();
    throw error;
  });
  const clients = LoadGenerators.start(build, spec.clients ?? 1, verbose);
  try {
    const connected = await clients.connect({
      transport: transportOf(spec.kind),
      port: server.port,
      conversations: spec.conversations,
      participants: spec.participants,
    });
    if (connected.failed > 0) {
      throw new Error(`${SERVER_LABELS[spec.kind]}: ${connected.failed} connections failed`);
    }
    progress(
      `${SERVER_LABELS[spec.kind]}: ${connected.open} connections in ${connected.seconds.toFixed(1)} s; warming up`,
    );
    await clients.start({
      content: spec.content,
      staggerMs: spec.staggerMs ?? 100,
      retryBusyMs: 20,
    });
    await sleep(spec.warmupMs);
    const quietBeforeWindow = await waitForQuiet(
      () => [server.child, ...(model === undefined ? [] : [model.child])],
      clients,
      spec.quietWaitMs ?? 0,
    );
    await model?.child.request({ type: 'stats' });
    const machineStart = readMachineCpu();
    const [serverStart, modelStart] = await Promise.all([
      server.child.request<ProcessUsage>({ type: 'mark' }),
      model?.child.request<ProcessUsage>({ type: 'usage' }),
      clients.mark(),
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
    const [serverEnd, report, modelEnd, modelStats] = await Promise.all([
      server.child.request<ProcessUsage>({ type: 'usage' }),
      clients.report(),
      model?.child.request<ProcessUsage>({ type: 'usage' }),
      model?.child.request<{ maxLagMs: number; maxActive: number }>({ type: 'stats' }),
    ]);
    const machineEnd = readMachineCpu();
    const serverCpu = cpuPercent(serverStart, serverEnd);
    const modelCpu =
      modelStart === undefined || modelEnd === undefined ? 0 : cpuPercent(modelStart, modelEnd);
    const machine = machineCpuPercent(machineStart, machineEnd);
    const others = machine - serverCpu - modelCpu - report.cpuPercent;
    const undrained = await clients.stop(spec.drainMs ?? 15_000);
    const cpuMicros = serverEnd.cpuMicros - serverStart.cpuMicros;
    return {
      kind: spec.kind,
      label: SERVER_LABELS[spec.kind],
      connections: connected.open,
      connectSeconds: connected.seconds,
      seconds: report.seconds,
      framesPerSecond: report.frames / report.seconds,
      tokensPerSecond: report.tokens / report.seconds,
      turnsPerSecond: report.turns / report.seconds,
      client: report,
      serverCpuPercent: serverCpu,
      serverCpuMicros: cpuMicros,
      serverMicrosPerFrame: report.frames === 0 ? Number.NaN : round2(cpuMicros / report.frames),
      serverMicrosPerToken: report.tokens === 0 ? Number.NaN : round2(cpuMicros / report.tokens),
      machineCpuPercent: machine,
      otherCpuPercent: Math.max(0, Math.round(others * 10) / 10),
      contended: others > CONTENDED_PERCENT,
      machineSaturated: machine >= 0.95 * 100 * cpuList().length,
      quietBeforeWindow,
      serverLoopDelay: serverEnd.loopDelay,
      serverRssMiB: serverEnd.memory.rss / 2 ** 20,
      ...(modelStats === undefined
        ? {}
        : {
            model: {
              cpuPercent: modelCpu,
              maxLagMs: round2(modelStats.maxLagMs),
              maxActive: modelStats.maxActive,
            },
          }),
      undrained,
      samples,
    };
  } finally {
    await clients.shutdown();
    await server.stop();
    await model?.stop();
  }
}

/**
 * Waits (at most `maxWaitMs`) for a one-second window in which processes other than the ones
 * under test use at most {@link CONTENDED_PERCENT} of a core: other work on a shared machine is
 * the largest source of noise. Returns whether the machine was quiet.
 */
export async function waitForQuiet(
  processes: () => BenchChild[],
  clients: LoadGenerators,
  maxWaitMs: number,
): Promise<boolean> {
  const deadline = Date.now() + maxWaitMs;
  const read = async () => {
    const [mine, theirs] = await Promise.all([
      Promise.all(processes().map((child) => child.request<ProcessUsage>({ type: 'usage' }))),
      clients.usage(),
    ]);
    return { usages: [...mine, ...theirs], machine: readMachineCpu() };
  };
  for (;;) {
    if (Date.now() >= deadline) return false;
    const before = await read();
    await sleep(1_000);
    const after = await read();
    const ours = after.usages.reduce(
      (sum, usage, index) => sum + cpuPercent(before.usages[index] ?? usage, usage),
      0,
    );
    if (machineCpuPercent(before.machine, after.machine) - ours <= CONTENDED_PERCENT) return true;
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

/**
 * The server's label, with `*` when other processes competed for the CPU in its window and `†`
 * when a client process was saturated (see {@link SATURATION_NOTE}).
 */
export function labelOf(
  result: Pick<ClosedLoopResult, 'label' | 'contended'> & {
    client: Pick<ClientReport, 'saturatedClients'>;
  },
): string {
  return `${result.label}${result.contended ? ' *' : ''}${result.client.saturatedClients > 0 ? ' †' : ''}`;
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
