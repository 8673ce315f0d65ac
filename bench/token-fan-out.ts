/**
 * Benchmark 2, token fan-out: conversations in a closed loop (one participant asks again as soon
 * as an answer completes), every participant receiving every token, for Parley and its peers in
 * the same run, in several shapes:
 *
 * - `best-case`: 100 conversations × 10 participants, 10 tokens per tick, as fast as the model
 *   can, Parley's pacing off: the most frames per commit and per system call Parley can get.
 *   Peers: raw `ws` uncorked and corked, Socket.IO as its docs advise, and (full mode) corked.
 * - `one-participant` and `two-participants`: 100 conversations × 1 or 2, the model streaming
 *   100 tokens/s in packets of 1–3 tokens, and Parley with its defaults (pacing 30 ms, pool 10):
 *   what one chat looks like. Parley then carries less load than the peers (at most 10 answers at
 *   33 tokens/s); compare CPU per token and per frame, not frames/s.
 *
 * Headline figures come from the server process: its CPU time per delivered frame and per token
 * over the window. Each shape names its client processes; the table says when one saturated.
 *
 * Run: `npx tsx bench/token-fan-out.ts [--quick] [--json file] [--rounds n] [--clients n]
 * [--cpu-prof dir]` (`--clients` replaces every shape's number of client processes).
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
  SATURATION_NOTE,
} from './support/report.js';

/** One shape of traffic. */
export interface FanOutShape {
  name: 'best-case' | 'one-participant' | 'two-participants';
  description: string;
  conversations: number;
  participants: number;
  tokensPerTurn: number;
  /** `10` or a range such as `1-3`. */
  tokensPerTick: string;
  /** The model's rate per answer; 0 as fast as possible. */
  tokensPerSecond: number;
  /** Parley's settings beyond the bench defaults (`{}`: Parley's own defaults). */
  parleyEnv: Record<string, string>;
  kinds: ServerKind[];
  clients: number;
}

/** A server's figures in one shape, averaged over its quiet rounds. */
export interface FanOutSummary {
  framesPerSecond: number;
  tokensPerSecond: number;
  tokenP50: number;
  tokenP99: number;
  serverCpu: number;
  clientCpu: number;
  serverMicrosPerFrame: number;
  serverMicrosPerToken: number;
}

/** Parley ÷ a peer in one shape. */
export interface FanOutRatios {
  frames: number;
  cpuPerFrame: number;
  cpuPerToken: number;
  tokenP99: number;
}

/** The JSON result of this benchmark. */
export interface FanOutResult {
  benchmark: 'token-fan-out';
  setup: Record<string, number | string>;
  shapes: {
    shape: FanOutShape;
    runs: (Omit<ClosedLoopResult, 'samples'> & { round: number })[];
    summary: Partial<Record<ServerKind, FanOutSummary>>;
    /** Parley ÷ each peer. */
    ratios: Partial<Record<ServerKind, FanOutRatios>>;
  }[];
  /** How each `summary` was made from `runs`. */
  summaryRule: string;
  problems: string[];
}

const SUMMARY_RULE =
  'mean over the rounds no other process competed with (all rounds when every one was contended)';

const options = parseBenchOptions();
const build = ensureBuilt();
const setup = {
  deltaChars: 24,
  warmupMs: options.quick ? 1_500 : 5_000,
  measureMs: options.quick ? 3_000 : 15_000,
  /** Longest wait, after the warm-up, for other processes to leave the CPU alone. */
  quietWaitMs: options.quick ? 1_000 : 30_000,
  rounds: options.rounds,
};
const PEERS: ServerKind[] = ['ws', 'ws-corked', 'socketio'];
const realistic = (participants: number): FanOutShape => ({
  name: participants === 1 ? 'one-participant' : 'two-participants',
  description: `100 × ${participants}, 1–3 tokens per tick at 100 tokens/s, Parley defaults (pacing 30 ms, pool 10)`,
  conversations: 100,
  participants,
  tokensPerTurn: 100,
  tokensPerTick: '1-3',
  tokensPerSecond: 100,
  parleyEnv: { PARLEY_TOKEN_PACING_MS: '30' },
  kinds: ['parley', ...PEERS],
  clients: 1,
});
const shapes: FanOutShape[] = [
  {
    name: 'best-case',
    description: '100 × 10, 10 tokens per tick as fast as possible, Parley pacing 0, pool 10',
    conversations: 100,
    participants: 10,
    tokensPerTurn: 100,
    tokensPerTick: '10',
    tokensPerSecond: 0,
    parleyEnv: {},
    kinds: ['parley', ...PEERS, ...(options.quick ? [] : ['socketio-corked' as const])],
    clients: 2,
  },
  realistic(1),
  realistic(2),
];

const problems: string[] = [];
const results: FanOutResult['shapes'] = [];
for (const shape of shapes) {
  const runs: FanOutResult['shapes'][number]['runs'] = [];
  const env = {
    BENCH_MODEL_TOKENS: String(shape.tokensPerTurn),
    BENCH_MODEL_TOKENS_PER_TICK: shape.tokensPerTick,
    BENCH_MODEL_TOKENS_PER_SECOND: String(shape.tokensPerSecond),
    BENCH_MODEL_DELTA_CHARS: String(setup.deltaChars),
  };
  for (let round = 0; round < options.rounds; round += 1) {
    for (const kind of orderForRound(shape.kinds, round)) {
      progress(`token fan-out ${shape.name}, round ${round + 1}: ${SERVER_LABELS[kind]}`);
      const result = await runClosedLoop(build, {
        kind,
        env: kind === 'parley' ? { ...env, ...shape.parleyEnv } : env,
        conversations: shape.conversations,
        participants: shape.participants,
        content: 'Stream a long answer, please.',
        warmupMs: setup.warmupMs,
        measureMs: setup.measureMs,
        quietWaitMs: setup.quietWaitMs,
        clients: options.clients ?? shape.clients,
        drainMs: shape.tokensPerSecond === 0 ? 15_000 : 2_000,
        cpuProfile: round === 0 && shape.name === 'best-case' ? options.cpuProfile : undefined,
        verbose: options.verbose,
      });
      runs.push({ ...withoutSamples(result), round: round + 1 });
    }
  }
  const summarize = (kind: ServerKind): FanOutSummary => {
    const mine = quietRuns(runs.filter((run) => run.kind === kind));
    const average = (pick: (run: (typeof mine)[number]) => number) => round3(mean(mine.map(pick)));
    return {
      framesPerSecond: Math.round(mean(mine.map((run) => run.framesPerSecond))),
      tokensPerSecond: Math.round(mean(mine.map((run) => run.tokensPerSecond))),
      tokenP50: average((run) => run.client.tokenLatency.p50),
      tokenP99: average((run) => run.client.tokenLatency.p99),
      serverCpu: average((run) => run.serverCpuPercent),
      clientCpu: average((run) => run.client.cpuPercent),
      serverMicrosPerFrame: average((run) => run.serverMicrosPerFrame),
      serverMicrosPerToken: average((run) => run.serverMicrosPerToken),
    };
  };
  const summary = Object.fromEntries(shape.kinds.map((kind) => [kind, summarize(kind)]));
  const parley = summary.parley;
  const ratios = Object.fromEntries(
    shape.kinds
      .filter((kind) => kind !== 'parley')
      .map((kind) => {
        const peer = summary[kind];
        return [
          kind,
          {
            frames: ratio(parley?.framesPerSecond ?? NaN, peer?.framesPerSecond ?? NaN),
            cpuPerFrame: ratio(
              parley?.serverMicrosPerFrame ?? NaN,
              peer?.serverMicrosPerFrame ?? NaN,
            ),
            cpuPerToken: ratio(
              parley?.serverMicrosPerToken ?? NaN,
              peer?.serverMicrosPerToken ?? NaN,
            ),
            tokenP99: ratio(parley?.tokenP99 ?? NaN, peer?.tokenP99 ?? NaN),
          },
        ];
      }),
  );
  problems.push(...runs.flatMap(problemsOf).map((problem) => `${shape.name}: ${problem}`));
  results.push({ shape, runs, summary, ratios });
}

const result: FanOutResult = {
  benchmark: 'token-fan-out',
  setup,
  shapes: results,
  summaryRule: SUMMARY_RULE,
  problems,
};

const tables = results.map(({ shape, runs, ratios }) => {
  const table = markdownTable(
    [
      'round',
      'server',
      'frames/s',
      'tokens/s',
      'server µs/frame',
      'server µs/token',
      'server CPU %',
      'token p50 ms',
      'token p99 ms',
      'client CPU %',
      'other CPU %',
    ],
    runs.map((run) => [
      run.round,
      labelOf(run),
      Math.round(run.framesPerSecond),
      Math.round(run.tokensPerSecond),
      run.serverMicrosPerFrame,
      run.serverMicrosPerToken,
      run.serverCpuPercent,
      run.client.tokenLatency.p50,
      run.client.tokenLatency.p99,
      run.client.cpuPercents.join(' + '),
      run.otherCpuPercent,
    ]),
  );
  const ratioTable = markdownTable(
    ['Parley vs', 'frames/s', 'server CPU/frame', 'server CPU/token', 'token p99'],
    Object.entries(ratios).map(([kind, value]) => [
      SERVER_LABELS[kind as ServerKind],
      value.frames,
      value.cpuPerFrame,
      value.cpuPerToken,
      value.tokenP99,
    ]),
  );
  const clients = options.clients ?? shape.clients;
  return `### ${shape.name}: ${shape.description} (${clients} client process${clients > 1 ? 'es' : ''})\n\n${table}\n\nParley ÷ peer (${SUMMARY_RULE}):\n\n${ratioTable}`;
});
emitResult(
  options,
  'Token fan-out',
  `${tables.join('\n\n')}\n\n${CONTENTION_NOTE}\n\n${SATURATION_NOTE}`,
  result,
);
if (problems.length > 0) {
  process.stderr.write(`bench: problems:\n  ${problems.join('\n  ')}\n`);
  process.exitCode = 1;
}
