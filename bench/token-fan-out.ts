/**
 * Benchmark 2, token fan-out: 100 conversations × 10 participants, the agent streaming with
 * pacing off, one participant per conversation asking again as soon as an answer completes.
 * Measures frames delivered per second and latency, for Parley, raw `ws` and Socket.IO in the
 * same run, and reports Parley's ratio to each.
 *
 * Run: `npx tsx bench/token-fan-out.ts [--quick] [--json file] [--rounds n] [--cpu-prof dir]`
 */
import { ensureBuilt } from './support/build.js';
import { orderForRound, SERVER_LABELS, type ServerKind } from './support/bench-servers.js';
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
} from './support/report.js';

/** The JSON result of this benchmark. */
export interface FanOutResult {
  benchmark: 'token-fan-out';
  setup: Record<string, number | string>;
  runs: (Omit<ClosedLoopResult, 'samples'> & { round: number })[];
  /** How `summary` was made from `runs`. */
  summaryRule: string;
  summary: Record<
    (typeof KINDS)[number],
    {
      framesPerSecond: number;
      tokenP50: number;
      tokenP99: number;
      frameP99: number;
      serverCpu: number;
      clientCpu: number;
      serverMicrosPerFrame: number;
    }
  >;
  ratios: {
    framesVsWs: number;
    framesVsSocketIo: number;
    p99VsWs: number;
    p99VsSocketIo: number;
    /** Server CPU time per delivered frame, Parley ÷ other (lower is better for Parley). */
    cpuPerFrameVsWs: number;
    cpuPerFrameVsSocketIo: number;
  };
  problems: string[];
}

const KINDS = ['parley', 'ws', 'socketio'] as const;

const SUMMARY_RULE =
  'mean over the rounds no other process competed with (all rounds when every one was contended)';

const options = parseBenchOptions();
const build = ensureBuilt();
const setup = {
  conversations: 100,
  participants: 10,
  tokensPerTurn: 100,
  tokensPerTick: 10,
  deltaChars: 24,
  warmupMs: options.quick ? 2_000 : 5_000,
  measureMs: options.quick ? 5_000 : 15_000,
  /** Longest wait, after the warm-up, for other processes to leave the CPU alone. */
  quietWaitMs: options.quick ? 2_000 : 30_000,
  rounds: options.rounds,
};
const env = {
  BENCH_MODEL_TOKENS: String(setup.tokensPerTurn),
  BENCH_MODEL_TOKENS_PER_TICK: String(setup.tokensPerTick),
  BENCH_MODEL_DELTA_CHARS: String(setup.deltaChars),
};

const runs: FanOutResult['runs'] = [];
for (let round = 0; round < options.rounds; round += 1) {
  for (const kind of orderForRound(KINDS, round)) {
    progress(`token fan-out, round ${round + 1}: ${SERVER_LABELS[kind]}`);
    const result = await runClosedLoop(build, {
      kind,
      env,
      conversations: setup.conversations,
      participants: setup.participants,
      content: 'Stream a long answer, please.',
      warmupMs: setup.warmupMs,
      measureMs: setup.measureMs,
      quietWaitMs: setup.quietWaitMs,
      cpuProfile: round === 0 ? options.cpuProfile : undefined,
      verbose: options.verbose,
    });
    runs.push({ ...withoutSamples(result), round: round + 1 });
  }
}

const summarize = (kind: ServerKind) => {
  const mine = quietRuns(runs.filter((run) => run.kind === kind));
  return {
    framesPerSecond: Math.round(mean(mine.map((run) => run.framesPerSecond))),
    tokenP50: round3(mean(mine.map((run) => run.client.tokenLatency.p50))),
    tokenP99: round3(mean(mine.map((run) => run.client.tokenLatency.p99))),
    frameP99: round3(mean(mine.map((run) => run.client.frameLatency.p99))),
    serverCpu: round3(mean(mine.map((run) => run.serverCpuPercent))),
    clientCpu: round3(mean(mine.map((run) => run.client.cpuPercent))),
    serverMicrosPerFrame: round3(mean(mine.map((run) => run.serverMicrosPerFrame))),
  };
};
const summary = {
  parley: summarize('parley'),
  ws: summarize('ws'),
  socketio: summarize('socketio'),
};
const result: FanOutResult = {
  benchmark: 'token-fan-out',
  setup,
  runs,
  summaryRule: SUMMARY_RULE,
  summary,
  ratios: {
    framesVsWs: ratio(summary.parley.framesPerSecond, summary.ws.framesPerSecond),
    framesVsSocketIo: ratio(summary.parley.framesPerSecond, summary.socketio.framesPerSecond),
    p99VsWs: ratio(summary.parley.tokenP99, summary.ws.tokenP99),
    p99VsSocketIo: ratio(summary.parley.tokenP99, summary.socketio.tokenP99),
    cpuPerFrameVsWs: ratio(summary.parley.serverMicrosPerFrame, summary.ws.serverMicrosPerFrame),
    cpuPerFrameVsSocketIo: ratio(
      summary.parley.serverMicrosPerFrame,
      summary.socketio.serverMicrosPerFrame,
    ),
  },
  problems: runs.flatMap(problemsOf),
};

const table = markdownTable(
  [
    'round',
    'server',
    'frames/s',
    'turns/s',
    'token p50 ms',
    'token p99 ms',
    'frame-ts p50 ms',
    'frame-ts p99 ms',
    'server CPU %',
    'server µs/frame',
    'client CPU %',
    'other CPU %',
  ],
  runs.map((run) => [
    run.round,
    labelOf(run),
    Math.round(run.framesPerSecond),
    run.turnsPerSecond,
    run.client.tokenLatency.p50,
    run.client.tokenLatency.p99,
    run.client.frameLatency.p50,
    run.client.frameLatency.p99,
    run.serverCpuPercent,
    run.serverMicrosPerFrame,
    run.client.cpuPercent,
    run.otherCpuPercent,
  ]),
);
const ratios = markdownTable(
  ['Parley vs', 'frames/s ratio', 'token p99 ratio', 'server CPU per frame ratio'],
  [
    ['raw ws', result.ratios.framesVsWs, result.ratios.p99VsWs, result.ratios.cpuPerFrameVsWs],
    [
      'Socket.IO',
      result.ratios.framesVsSocketIo,
      result.ratios.p99VsSocketIo,
      result.ratios.cpuPerFrameVsSocketIo,
    ],
  ],
);
emitResult(
  options,
  'Token fan-out (100 conversations × 10 participants, pacing off)',
  `${table}\n\nRatios: ${SUMMARY_RULE}.\n\n${ratios}\n\n${CONTENTION_NOTE}`,
  result,
);
if (result.problems.length > 0) {
  process.stderr.write(`bench: problems:\n  ${result.problems.join('\n  ')}\n`);
  process.exitCode = 1;
}
