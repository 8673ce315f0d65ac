/**
 * Benchmark 3, turn throughput through the worker pool (Parley only: the others have no pool).
 * 100 conversations each ask again as soon as their answer completes, so about 90 turns wait
 * while 10 run. Two models:
 *
 * - `model-latency`: a model that takes 50 ms to its first token, then streams 20 tokens, as a
 *   remote model would; throughput is bound by the pool (10 / turn time), and the model itself
 *   counts how many of its streams run at once, which must never exceed the pool's bound.
 * - `async-tools`: a model that calls a tool taking 50 ms of real (timer) time, then streams 20
 *   tokens: the pool check of a tool-using agent. Running turns are seen by the sampler, and the
 *   tool counts its own concurrent calls, which must never exceed the pool's bound either.
 * - `offline-tools`: the built-in offline model answering "What is 5 + 3?" with a calculator tool
 *   call and a second model step; no waiting anywhere, so throughput is bound by CPU. Its tools
 *   are synchronous: a whole turn runs within one event-loop turn, so the sampler sees almost no
 *   running turn, and the pool check says little for it (its `running max` shows that).
 *
 * Run: `npx tsx bench/turn-throughput.ts [--quick] [--json file]`
 */
import { ensureBuilt } from './support/build.js';
import { problemsOf, runClosedLoop, type ClosedLoopResult } from './support/closed-loop.js';
import { parseBenchOptions } from './support/options.js';
import { emitResult, markdownTable, mean, progress } from './support/report.js';

interface PoolStats {
  turns?: { running?: number; waiting?: number };
  model?: { active?: number; maxActive?: number };
  tools?: { active?: number; maxActive?: number };
}

/** One scenario's result. */
export interface ThroughputScenario {
  name: 'model-latency' | 'async-tools' | 'offline-tools';
  description: string;
  turnsPerSecond: number;
  /** Pool concurrency ÷ mean turn time: what the pool allows at most (null when CPU-bound). */
  poolBoundTurnsPerSecond: number | null;
  framesPerSecond: number;
  turnWaitMs: { p50: number; p99: number };
  turnServiceMs: { mean: number; p50: number; p99: number };
  maxRunning: number;
  maxWaiting: number;
  meanWaiting: number;
  /** Most model streams open at once, counted by the model (bench models only). */
  maxModelStreams: number | null;
  /** Most tool calls in progress at once, counted by the tool (`async-tools` only). */
  maxToolCalls: number | null;
  serverCpuPercent: number;
  serverMicrosPerTurn: number;
  /** Queue depth over time: [seconds, running, waiting]. */
  queue: [number, number, number][];
  run: Omit<ClosedLoopResult, 'samples'>;
}

/** The JSON result of this benchmark. */
export interface ThroughputResult {
  benchmark: 'turn-throughput';
  setup: Record<string, number>;
  scenarios: ThroughputScenario[];
  /** True when no sample saw more running turns (or model streams, or tool calls) than the pool allows. */
  poolBoundHonoured: boolean;
  /** True when the scenarios that wait (model latency, async tools) were seen at the bound. */
  poolBoundReached: boolean;
  problems: string[];
}

const options = parseBenchOptions();
const build = ensureBuilt();
const setup = {
  conversations: 100,
  participants: 1,
  concurrency: 10,
  queueLimit: 100,
  warmupMs: options.quick ? 1_000 : 3_000,
  measureMs: options.quick ? 4_000 : 15_000,
  pollMs: 100,
};

const scenarios: ThroughputScenario[] = [];
const definitions = [
  {
    name: 'model-latency' as const,
    description: '50 ms to first token, 20 tokens',
    content: 'Answer after thinking a little.',
    env: { BENCH_MODEL_FIRST_TOKEN_DELAY_MS: '50', BENCH_MODEL_TOKENS: '20' },
  },
  {
    name: 'async-tools' as const,
    description: 'a tool call taking 50 ms of real time, then 20 tokens (2 model steps)',
    content: 'Look something up, then answer.',
    env: { BENCH_MODEL: 'tool', BENCH_TOOL_MS: '50', BENCH_MODEL_TOKENS: '20' },
  },
  {
    name: 'offline-tools' as const,
    description: 'offline model, calculator tool call + answer (2 model steps)',
    content: 'What is 5 + 3?',
    env: { BENCH_MODEL: 'offline' },
  },
];

for (const definition of definitions) {
  progress(`turn throughput: ${definition.name}`);
  const { samples, ...run } = await runClosedLoop(build, {
    kind: 'parley',
    env: {
      ...definition.env,
      PARLEY_TURN_CONCURRENCY: String(setup.concurrency),
      PARLEY_TURN_QUEUE: String(setup.queueLimit),
    },
    conversations: setup.conversations,
    participants: setup.participants,
    content: definition.content,
    warmupMs: setup.warmupMs,
    measureMs: setup.measureMs,
    staggerMs: 0,
    pollStatsMs: setup.pollMs,
    verbose: options.verbose,
  });
  const stats = samples.map((sample) => ({ t: sample.t, ...(sample.stats as PoolStats) }));
  const running = stats.map((sample) => sample.turns?.running ?? 0);
  const waiting = stats.map((sample) => sample.turns?.waiting ?? 0);
  const modelStreams = stats.map((sample) => sample.model?.maxActive ?? 0);
  const toolCalls = stats.map((sample) => sample.tools?.maxActive ?? 0);
  const serviceSeconds = run.client.turnService.mean / 1000;
  scenarios.push({
    name: definition.name,
    description: definition.description,
    turnsPerSecond: Math.round(run.turnsPerSecond * 10) / 10,
    poolBoundTurnsPerSecond:
      definition.name !== 'offline-tools' && serviceSeconds > 0
        ? Math.round((setup.concurrency / serviceSeconds) * 10) / 10
        : null,
    framesPerSecond: Math.round(run.framesPerSecond),
    turnWaitMs: { p50: run.client.turnWait.p50, p99: run.client.turnWait.p99 },
    turnServiceMs: {
      mean: run.client.turnService.mean,
      p50: run.client.turnService.p50,
      p99: run.client.turnService.p99,
    },
    maxRunning: Math.max(0, ...running),
    maxWaiting: Math.max(0, ...waiting),
    meanWaiting: Math.round(mean(waiting) * 10) / 10,
    maxModelStreams: definition.name === 'offline-tools' ? null : Math.max(0, ...modelStreams),
    maxToolCalls: definition.name === 'async-tools' ? Math.max(0, ...toolCalls) : null,
    serverCpuPercent: run.serverCpuPercent,
    serverMicrosPerTurn:
      run.client.turns === 0 ? Number.NaN : Math.round(run.serverCpuMicros / run.client.turns),
    queue: stats.map((sample, index) => [
      Math.round(sample.t * 100) / 100,
      running[index] ?? 0,
      waiting[index] ?? 0,
    ]),
    run,
  });
}

const problems = scenarios.flatMap((scenario) => problemsOf(scenario.run));
const poolBoundHonoured = scenarios.every(
  (scenario) =>
    scenario.maxRunning <= setup.concurrency &&
    (scenario.maxModelStreams === null || scenario.maxModelStreams <= setup.concurrency) &&
    (scenario.maxToolCalls === null || scenario.maxToolCalls <= setup.concurrency),
);
const poolBoundReached = scenarios
  .filter((scenario) => scenario.name !== 'offline-tools')
  .every((scenario) => scenario.maxRunning === setup.concurrency);
if (!poolBoundHonoured) problems.push(`the pool ran more than ${setup.concurrency} turns at once`);
const result: ThroughputResult = {
  benchmark: 'turn-throughput',
  setup,
  scenarios,
  poolBoundHonoured,
  poolBoundReached,
  problems,
};

const table = markdownTable(
  [
    'scenario',
    'turns/s',
    'pool bound turns/s',
    'turn ms (mean)',
    'wait p50 ms',
    'running max',
    'waiting mean / max',
    'model streams max',
    'tool calls max',
    'server CPU %',
    'server µs/turn',
  ],
  scenarios.map((scenario) => [
    `${scenario.name} (${scenario.description})`,
    scenario.turnsPerSecond,
    scenario.poolBoundTurnsPerSecond ?? '— (CPU-bound)',
    scenario.turnServiceMs.mean,
    scenario.turnWaitMs.p50,
    scenario.maxRunning,
    `${scenario.meanWaiting} / ${scenario.maxWaiting}`,
    scenario.maxModelStreams === null ? '—' : String(scenario.maxModelStreams),
    scenario.maxToolCalls === null ? '—' : String(scenario.maxToolCalls),
    scenario.serverCpuPercent,
    scenario.serverMicrosPerTurn,
  ]),
);
emitResult(
  options,
  `Turn throughput through the worker pool (${setup.conversations} conversations, pool ${setup.concurrency}, queue ${setup.queueLimit})`,
  `${table}\n\nPool bound of ${setup.concurrency} honoured: ${poolBoundHonoured ? 'yes' : 'NO'}; reached by the scenarios that wait: ${poolBoundReached ? 'yes' : 'NO'} (offline-tools runs each turn within one event-loop turn, so its samples rarely see one running).`,
  result,
);
if (problems.length > 0) {
  process.stderr.write(`bench: problems:\n  ${problems.join('\n  ')}\n`);
  process.exitCode = 1;
}
