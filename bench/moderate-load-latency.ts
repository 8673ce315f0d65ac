/**
 * Benchmark 4, latency at moderate load: 10 conversations × 10 participants, the model streaming
 * 100 tokens a second in every conversation (about 10,000 frames/s delivered in all, well below
 * saturation). Measures the latency each server adds between "the model wrote a token" and "a
 * participant has it": p50, p99, p99.9 and max, for Parley, raw `ws` (uncorked and corked) and
 * Socket.IO in one run.
 *
 * The model is the external process (`servers/sse-model-server.ts`), read over HTTP in the OpenAI
 * Chat Completions format by every server alike, and it stamps each token as it writes it: a
 * server whose event loop is saturated shows it in these figures (an in-process model would be
 * late too, and hide it). Parley runs with its default pool (10 turns at once), which runs every
 * one of the 10 conversations, and pacing 0 (the default 30 ms pacing caps a stream at 33
 * tokens/s: slower than this model, so tokens would queue for seconds; the provider benchmark
 * shows that case).
 *
 * Run: `npx tsx bench/moderate-load-latency.ts [--quick] [--json file] [--rounds n] [--clients n]`
 */
import { ensureBuilt } from './support/build.js';
import { orderForRound, SERVER_LABELS } from './support/bench-servers.js';
import {
  labelOf,
  problemsOf,
  quietRuns,
  runClosedLoop,
  withoutSamples,
  type ClosedLoopResult,
} from './support/closed-loop.js';
import { parseBenchOptions } from './support/options.js';
import {
  CONTENTION_NOTE,
  emitResult,
  markdownTable,
  mean,
  progress,
  ratio,
  round3,
  SATURATION_NOTE,
} from './support/report.js';

const KINDS = ['parley', 'ws', 'ws-corked', 'socketio'] as const;

/** The JSON result of this benchmark. */
export interface LatencyResult {
  benchmark: 'moderate-load-latency';
  setup: Record<string, number>;
  runs: (Omit<ClosedLoopResult, 'samples'> & { round: number })[];
  /** How `summary` was made from `runs`. */
  summaryRule: string;
  summary: Record<
    (typeof KINDS)[number],
    {
      framesPerSecond: number;
      p50: number;
      p99: number;
      p999: number;
      max: number;
      serverMicrosPerToken: number;
      frameP99: number;
    }
  >;
  ratios: { p99VsWs: number; p99VsSocketIo: number; p50VsWs: number };
  problems: string[];
}

const SUMMARY_RULE =
  'mean over the rounds no other process competed with (all rounds when every one was contended)';

const options = parseBenchOptions();
const build = ensureBuilt();
const setup = {
  conversations: 10,
  participants: 10,
  tokensPerSecondPerConversation: 100,
  tokensPerTurn: 200,
  /** Parley's worker pool: the default, which runs every conversation at once here. */
  turnConcurrency: 10,
  warmupMs: options.quick ? 2_000 : 5_000,
  measureMs: options.quick ? 5_000 : 20_000,
  /** Longest wait, after the warm-up, for other processes to leave the CPU alone. */
  quietWaitMs: options.quick ? 2_000 : 30_000,
  rounds: options.rounds,
};
const modelEnv = {
  BENCH_SSE_TOKENS: String(setup.tokensPerTurn),
  BENCH_SSE_TOKENS_PER_SECOND: String(setup.tokensPerSecondPerConversation),
};

const runs: LatencyResult['runs'] = [];
for (let round = 0; round < options.rounds; round += 1) {
  for (const kind of orderForRound(KINDS, round)) {
    progress(`moderate-load latency, round ${round + 1}: ${SERVER_LABELS[kind]}`);
    const result = await runClosedLoop(build, {
      kind,
      env: {},
      modelEnv,
      conversations: setup.conversations,
      participants: setup.participants,
      content: 'Stream at a steady pace, please.',
      warmupMs: setup.warmupMs,
      measureMs: setup.measureMs,
      quietWaitMs: setup.quietWaitMs,
      // Spread the conversations over one token interval, so their tokens do not come in bursts.
      staggerMs: 1000 / setup.tokensPerSecondPerConversation,
      drainMs: 3_000,
      clients: options.clients ?? 1,
      verbose: options.verbose,
      cpuProfile: round === 0 ? options.cpuProfile : undefined,
    });
    runs.push({ ...withoutSamples(result), round: round + 1 });
  }
}

const summarize = (kind: (typeof KINDS)[number]) => {
  const mine = quietRuns(runs.filter((run) => run.kind === kind));
  return {
    framesPerSecond: Math.round(mean(mine.map((run) => run.framesPerSecond))),
    p50: round3(mean(mine.map((run) => run.client.tokenLatency.p50))),
    p99: round3(mean(mine.map((run) => run.client.tokenLatency.p99))),
    p999: round3(mean(mine.map((run) => run.client.tokenLatency.p999))),
    max: Math.max(...mine.map((run) => run.client.tokenLatency.max)),
    serverMicrosPerToken: round3(mean(mine.map((run) => run.serverMicrosPerToken))),
    frameP99: round3(mean(mine.map((run) => run.client.frameLatency.p99))),
  };
};
const summary = {
  parley: summarize('parley'),
  ws: summarize('ws'),
  'ws-corked': summarize('ws-corked'),
  socketio: summarize('socketio'),
};
const result: LatencyResult = {
  benchmark: 'moderate-load-latency',
  setup,
  runs,
  summaryRule: SUMMARY_RULE,
  summary,
  ratios: {
    p99VsWs: ratio(summary.parley.p99, summary.ws.p99),
    p99VsSocketIo: ratio(summary.parley.p99, summary.socketio.p99),
    p50VsWs: ratio(summary.parley.p50, summary.ws.p50),
  },
  problems: runs.flatMap(problemsOf),
};

const table = markdownTable(
  [
    'round',
    'server',
    'frames/s',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'max ms',
    'frame-ts p99 ms',
    'server CPU %',
    'server µs/token',
    'model lag max ms',
    'client CPU %',
    'other CPU %',
  ],
  runs.map((run) => [
    run.round,
    labelOf(run),
    Math.round(run.framesPerSecond),
    run.client.tokenLatency.p50,
    run.client.tokenLatency.p99,
    run.client.tokenLatency.p999,
    run.client.tokenLatency.max,
    run.client.frameLatency.p99,
    run.serverCpuPercent,
    run.serverMicrosPerToken,
    run.model?.maxLagMs ?? NaN,
    run.client.cpuPercents.join(' + '),
    run.otherCpuPercent,
  ]),
);
const ratios = markdownTable(
  ['Parley vs', 'p99 ratio', 'p50 ratio'],
  [
    ['raw ws', result.ratios.p99VsWs, result.ratios.p50VsWs],
    [
      'raw ws, corked',
      ratio(summary.parley.p99, summary['ws-corked'].p99),
      ratio(summary.parley.p50, summary['ws-corked'].p50),
    ],
    ['Socket.IO', result.ratios.p99VsSocketIo, ratio(summary.parley.p50, summary.socketio.p50)],
  ],
);
emitResult(
  options,
  `Latency at moderate load (${setup.conversations} conversations × ${setup.participants}, ${setup.tokensPerSecondPerConversation} tokens/s each from the external model, Parley pool ${setup.turnConcurrency})`,
  `${table}\n\nRatios: ${SUMMARY_RULE}.\n\n${ratios}\n\n${CONTENTION_NOTE}\n\n${SATURATION_NOTE}`,
  result,
);
if (result.problems.length > 0) {
  process.stderr.write(`bench: problems:\n  ${result.problems.join('\n  ')}\n`);
  process.exitCode = 1;
}
