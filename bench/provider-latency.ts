/**
 * The provider benchmark (the base of issue 12's): an external model process streams answers at
 * 100 tokens/s each over HTTP in the OpenAI Chat Completions SSE format, stamping each chunk as
 * it writes it; `streams` turns run at once (Parley's pool raised to match), two participants
 * each. Measured in the same run:
 *
 * - `Parley`: the bench server reads the streams through its bench-only SSE model and delivers
 *   every token to both participants; pacing 0.
 * - `Parley, default pacing` (full mode): the same with Parley's default 30 ms pacing, which caps
 *   a stream at 33 tokens/s: tokens queue behind the pace, and latency grows along each answer.
 * - `direct SSE`: a plain client reads the same streams straight from the model process, with no
 *   server in between: the floor. Parley's "added latency" is its percentile minus this one's.
 *
 * Reports frames/s delivered, p50/p99 latency per token and added by Parley, and the server's CPU
 * per token, with the model's and the clients' CPU so a saturated helper process shows.
 *
 * Run: `npx tsx bench/provider-latency.ts [--quick] [--streams n] [--clients n] [--json file]`
 */
import { ensureBuilt } from './support/build.js';
import { startModelServer } from './support/bench-servers.js';
import { sleep } from './support/clock.js';
import {
  labelOf,
  problemsOf,
  runClosedLoop,
  withoutSamples,
  type ClosedLoopResult,
} from './support/closed-loop.js';
import { LoadGenerators, type ClientReport } from './support/load-generators.js';
import { parseBenchOptions } from './support/options.js';
import { emitResult, markdownTable, progress, round3, SATURATION_NOTE } from './support/report.js';
import { cpuPercent, type ProcessUsage } from './support/usage.js';

/** One measured variant. */
export interface ProviderRun {
  variant: 'parley' | 'parley-default-pacing' | 'direct';
  label: string;
  streams: number;
  framesPerSecond: number;
  tokensPerSecond: number;
  tokenLatency: ClientReport['tokenLatency'];
  /** Parley's percentile minus the direct client's (same run). */
  addedP50: number | null;
  addedP99: number | null;
  serverMicrosPerToken: number | null;
  serverCpuPercent: number | null;
  modelCpuPercent: number;
  modelMaxLagMs: number;
  clientCpuPercents: number[];
  saturatedClients: number;
  turnRate: ClientReport['turnRate'];
  errors: Record<string, number>;
  closed?: Omit<ClosedLoopResult, 'samples'>;
}

/** The JSON result of this benchmark. */
export interface ProviderResult {
  benchmark: 'provider-latency';
  setup: Record<string, number>;
  runs: ProviderRun[];
  problems: string[];
}

const options = parseBenchOptions();
const build = ensureBuilt();
const streams = options.streams?.[0] ?? (options.quick ? 20 : 100);
const setup = {
  streams,
  participants: 2,
  tokensPerSecond: 100,
  tokensPerAnswer: options.quick ? 100 : 200,
  clients: options.clients ?? (streams > 200 ? 2 : 1),
  warmupMs: options.quick ? 2_000 : 5_000,
  measureMs: options.quick ? 3_000 : 15_000,
};
const modelEnv = {
  BENCH_SSE_TOKENS: String(setup.tokensPerAnswer),
  BENCH_SSE_TOKENS_PER_SECOND: String(setup.tokensPerSecond),
};

/** The direct client: the model process and a load generator reading its streams. */
async function runDirect(): Promise<ProviderRun> {
  const model = await startModelServer(build, modelEnv, options.verbose);
  const clients = LoadGenerators.start(build, setup.clients, options.verbose);
  try {
    await clients.sseStart({ port: Number(new URL(model.baseUrl).port), streams, staggerMs: 100 });
    await sleep(setup.warmupMs);
    await model.child.request({ type: 'stats' });
    const [modelStart] = await Promise.all([
      model.child.request<ProcessUsage>({ type: 'usage' }),
      clients.mark(),
    ]);
    await sleep(setup.measureMs);
    const [modelEnd, report, stats] = await Promise.all([
      model.child.request<ProcessUsage>({ type: 'usage' }),
      clients.report(),
      model.child.request<{ maxLagMs: number }>({ type: 'stats' }),
    ]);
    await clients.stop(3_000);
    return {
      variant: 'direct',
      label: 'direct SSE (no server)',
      streams,
      framesPerSecond: Math.round(report.frames / report.seconds),
      tokensPerSecond: Math.round(report.tokens / report.seconds),
      tokenLatency: report.tokenLatency,
      addedP50: null,
      addedP99: null,
      serverMicrosPerToken: null,
      serverCpuPercent: null,
      modelCpuPercent: cpuPercent(modelStart, modelEnd),
      modelMaxLagMs: Math.round(stats.maxLagMs * 100) / 100,
      clientCpuPercents: report.cpuPercents,
      saturatedClients: report.saturatedClients,
      turnRate: report.turnRate,
      errors: report.errors,
    };
  } finally {
    await clients.shutdown();
    await model.stop();
  }
}

async function runParley(defaultPacing: boolean): Promise<ProviderRun> {
  const result = await runClosedLoop(build, {
    kind: 'parley',
    env: {
      PARLEY_TURN_CONCURRENCY: String(streams),
      ...(defaultPacing ? { PARLEY_TOKEN_PACING_MS: '30' } : {}),
    },
    modelEnv,
    conversations: streams,
    participants: setup.participants,
    content: 'Stream an answer, please.',
    warmupMs: setup.warmupMs,
    measureMs: setup.measureMs,
    clients: setup.clients,
    cpuProfile: defaultPacing ? undefined : options.cpuProfile,
    staggerMs: 100,
    drainMs: 3_000,
    verbose: options.verbose,
  });
  const closed = withoutSamples(result);
  return {
    variant: defaultPacing ? 'parley-default-pacing' : 'parley',
    label: `Parley, ${defaultPacing ? 'default pacing (30 ms)' : 'pacing 0'}${labelOf(result).slice(result.label.length)}`,
    streams,
    framesPerSecond: Math.round(result.framesPerSecond),
    tokensPerSecond: Math.round(result.tokensPerSecond),
    tokenLatency: result.client.tokenLatency,
    addedP50: null,
    addedP99: null,
    serverMicrosPerToken: result.serverMicrosPerToken,
    serverCpuPercent: result.serverCpuPercent,
    modelCpuPercent: result.model?.cpuPercent ?? NaN,
    modelMaxLagMs: result.model?.maxLagMs ?? NaN,
    clientCpuPercents: result.client.cpuPercents,
    saturatedClients: result.client.saturatedClients,
    turnRate: result.client.turnRate,
    errors: result.client.errors,
    closed,
  };
}

const runs: ProviderRun[] = [];
progress(`provider latency: direct SSE, ${streams} streams`);
runs.push(await runDirect());
progress(`provider latency: Parley, ${streams} streams × ${setup.participants} participants`);
runs.push(await runParley(false));
if (!options.quick) {
  progress('provider latency: Parley with default pacing');
  runs.push(await runParley(true));
}
const floor = runs.find((run) => run.variant === 'direct');
for (const run of runs) {
  if (run.variant === 'direct' || floor === undefined) continue;
  run.addedP50 = round3(run.tokenLatency.p50 - floor.tokenLatency.p50);
  run.addedP99 = round3(run.tokenLatency.p99 - floor.tokenLatency.p99);
}
const problems = runs.flatMap((run) => {
  const own = run.closed === undefined ? [] : problemsOf(run.closed);
  const errors =
    Object.keys(run.errors).length > 0
      ? [`${run.label}: errors ${JSON.stringify(run.errors)}`]
      : [];
  return run.closed === undefined ? errors : own;
});
const result: ProviderResult = { benchmark: 'provider-latency', setup, runs, problems };

const table = markdownTable(
  [
    'variant',
    'frames/s',
    'tokens/s',
    'p50 ms',
    'p99 ms',
    'added p50 ms',
    'added p99 ms',
    'server µs/token',
    'server CPU %',
    'turn rate p5 tokens/s',
    'model CPU % (lag max ms)',
    'client CPU %',
  ],
  runs.map((run) => [
    run.label,
    run.framesPerSecond,
    run.tokensPerSecond,
    run.tokenLatency.p50,
    run.tokenLatency.p99,
    run.addedP50 ?? '—',
    run.addedP99 ?? '—',
    run.serverMicrosPerToken ?? '—',
    run.serverCpuPercent ?? '—',
    run.turnRate.p5,
    `${run.modelCpuPercent} (${run.modelMaxLagMs})`,
    run.clientCpuPercents.join(' + '),
  ]),
);
emitResult(
  options,
  `Provider latency (${streams} streams at ${setup.tokensPerSecond} tokens/s, ${setup.participants} participants each, external SSE model)`,
  `${table}\n\n"added": Parley's percentile minus the direct client's in this run. ${SATURATION_NOTE}`,
  result,
);
if (problems.length > 0) {
  process.stderr.write(`bench: problems:\n  ${problems.join('\n  ')}\n`);
  process.exitCode = 1;
}
