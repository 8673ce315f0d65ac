/**
 * Per-token cost, the shape of issue 15's goal: one participant per conversation, the model
 * streaming 100 tokens/s per answer in packets of 1–2 tokens, the durable SQLite log on, Parley's
 * defaults except pacing 0 (and a pool as large as the largest step, so every stream runs). One
 * Parley process; the number of concurrent streams steps up (conversations are added to the
 * running server) until a step where the streams no longer keep their rate.
 *
 * At each step: the server's CPU per token (its `process.cpuUsage()` over the window, every
 * thread, divided by the tokens the asking participants received), tokens/s delivered, and
 * whether every stream kept its rate: the 5th percentile of per-answer rates (first to last
 * chunk) at least 95 % of the model's, and tokens/s at least 90 % of streams × rate. The highest
 * tokens/s of a step that kept its rate is the headline.
 *
 * The model runs inside the server (`servers/bench-model.ts`): its own timers and stamps are part
 * of the CPU measured (a few µs per packet), and when the loop saturates the model is late too,
 * which is what makes a stream miss its rate here.
 *
 * The same steps then run against raw `ws`, corked per tick, with the same model and clients (up
 * to Parley's last step): the floor of the same traffic with no log and no actor, so that
 * Parley's CPU per token is read against what any WebSocket server pays here.
 *
 * Run: `npx tsx bench/token-cost.ts [--quick] [--streams 50,100,200] [--clients n] [--json file]`
 */
import { ensureBuilt } from './support/build.js';
import { SERVER_LABELS, startServer, type ServerKind } from './support/bench-servers.js';
import { sleep } from './support/clock.js';
import { LoadGenerators, type ClientReport } from './support/load-generators.js';
import { parseBenchOptions } from './support/options.js';
import { emitResult, markdownTable, progress, SATURATION_NOTE } from './support/report.js';
import {
  cpuPercent,
  machineCpuPercent,
  readMachineCpu,
  type ProcessUsage,
} from './support/usage.js';

/** One step of the stream count. */
export interface TokenCostStep {
  streams: number;
  tokensPerSecond: number;
  /** What the streams would deliver at their rate, all the time. */
  targetTokensPerSecond: number;
  serverMicrosPerToken: number;
  serverCpuPercent: number;
  machineCpuPercent: number;
  turnRate: ClientReport['turnRate'];
  tokenLatencyP99: number;
  serverLoopDelayP99: number;
  clientCpuPercents: number[];
  saturatedClients: number;
  kept: boolean;
  errors: Record<string, number>;
}

/** The JSON result of this benchmark. */
export interface TokenCostResult {
  benchmark: 'token-cost';
  setup: Record<string, number | string>;
  steps: TokenCostStep[];
  /** tokens/s of the highest step whose streams all kept their rate (0 if none). */
  sustainedTokensPerSecond: number;
  /** CPU per token at the first step (light load) and at the sustained step. */
  microsPerTokenAtFirstStep: number;
  microsPerTokenAtSustained: number;
  /** The same steps against raw `ws`, corked ({@link PEER}), as far as Parley's went. */
  peer?: { kind: ServerKind; steps: TokenCostStep[] };
  problems: string[];
}

/**
 * The peer measured over the same steps: raw `ws` with the same model, corked per tick as Parley
 * is. It keeps no log and runs no actor, so its CPU per token is the floor a WebSocket server on
 * this machine pays for the same traffic (the model's timers, one `writev` per packet, the frame's
 * JSON), against which Parley's figure is read.
 */
const PEER: ServerKind = 'ws-corked';

const options = parseBenchOptions();
const build = ensureBuilt();
const steps = options.streams ?? (options.quick ? [20, 60] : [50, 100, 200, 300, 500, 700, 1000]);
const setup = {
  tokensPerSecond: 100,
  tokensPerTick: '1-2',
  tokensPerAnswer: 200,
  participants: 1,
  clients: options.clients ?? 2,
  warmupMs: options.quick ? 2_500 : 4_000,
  measureMs: options.quick ? 3_000 : 8_000,
  rateKept: 0.95,
  throughputKept: 0.9,
};

/**
 * Runs the steps against one server, from the first until a step where the streams no longer
 * keep their rate (or, for a peer, until Parley's last step: a peer is measured only as far as
 * Parley was, since the comparison is at the same load).
 */
async function runSteps(kind: ServerKind, stepList: readonly number[]): Promise<TokenCostStep[]> {
  const server = await startServer(build, kind, {
    env: {
      BENCH_MODEL_TOKENS: String(setup.tokensPerAnswer),
      BENCH_MODEL_TOKENS_PER_TICK: setup.tokensPerTick,
      BENCH_MODEL_TOKENS_PER_SECOND: String(setup.tokensPerSecond),
      PARLEY_TURN_CONCURRENCY: String(Math.max(...stepList)),
    },
    verbose: options.verbose,
  });
  const label = SERVER_LABELS[kind];
  const clients = LoadGenerators.start(build, setup.clients, options.verbose);
  const steps: TokenCostStep[] = [];
  try {
    let open = 0;
    for (const streams of stepList) {
      progress(`token cost, ${label}: ${streams} streams`);
      const connected = await clients.connect({
        transport: 'ws',
        port: server.port,
        conversations: streams - open,
        firstConversation: open,
        participants: setup.participants,
      });
      if (connected.failed > 0) {
        problems.push(`${label}, ${streams} streams: ${connected.failed} connections failed`);
      }
      open = streams;
      await clients.start({
        content: 'Stream an answer, please.',
        staggerMs: 200,
        retryBusyMs: 20,
      });
      await sleep(setup.warmupMs);
      const machineStart = readMachineCpu();
      const [serverStart] = await Promise.all([
        server.child.request<ProcessUsage>({ type: 'mark' }),
        clients.mark(),
      ]);
      await sleep(setup.measureMs);
      const [serverEnd, report] = await Promise.all([
        server.child.request<ProcessUsage>({ type: 'usage' }),
        clients.report(),
      ]);
      const machine = machineCpuPercent(machineStart, readMachineCpu());
      const target = streams * setup.tokensPerSecond;
      const tokensPerSecond = Math.round(report.tokens / report.seconds);
      const kept =
        report.turnRate.count > 0 &&
        report.turnRate.p5 >= setup.rateKept * setup.tokensPerSecond &&
        tokensPerSecond >= setup.throughputKept * target;
      const step: TokenCostStep = {
        streams,
        tokensPerSecond,
        targetTokensPerSecond: target,
        serverMicrosPerToken:
          report.tokens === 0
            ? NaN
            : Math.round(((serverEnd.cpuMicros - serverStart.cpuMicros) / report.tokens) * 10) / 10,
        serverCpuPercent: cpuPercent(serverStart, serverEnd),
        machineCpuPercent: machine,
        turnRate: report.turnRate,
        tokenLatencyP99: report.tokenLatency.p99,
        serverLoopDelayP99: serverEnd.loopDelay.p99,
        clientCpuPercents: report.cpuPercents,
        saturatedClients: report.saturatedClients,
        kept,
        errors: report.errors,
      };
      steps.push(step);
      if (Object.keys(report.errors).length > 0) {
        problems.push(`${label}, ${streams} streams: errors ${JSON.stringify(report.errors)}`);
      }
      progress(
        `token cost, ${label}: ${streams} streams: ${tokensPerSecond} tokens/s of ${target}, ${step.serverMicrosPerToken} µs/token, rate p5 ${report.turnRate.p5}${kept ? '' : ' (rate not kept: stopping)'}`,
      );
      if (!kept) break;
    }
    await clients.stop(2_000);
  } finally {
    await clients.shutdown();
    await server.stop();
  }
  return steps;
}

const problems: string[] = [];
const results = await runSteps('parley', steps);
const peerSteps = await runSteps(
  PEER,
  results.map((step) => step.streams),
);

const sustained = results.filter((step) => step.kept).at(-1);
const result: TokenCostResult = {
  benchmark: 'token-cost',
  setup,
  steps: results,
  sustainedTokensPerSecond: sustained?.tokensPerSecond ?? 0,
  microsPerTokenAtFirstStep: results[0]?.serverMicrosPerToken ?? NaN,
  microsPerTokenAtSustained: sustained?.serverMicrosPerToken ?? NaN,
  peer: { kind: PEER, steps: peerSteps },
  problems,
};
const table = markdownTable(
  [
    'streams',
    'tokens/s',
    'target',
    'server µs/token',
    'server CPU %',
    'machine CPU %',
    'answer rate p5 / p50',
    'token p99 ms',
    'server loop p99 ms',
    'client CPU %',
    'kept rate',
  ],
  results.map((step) => [
    step.streams,
    step.tokensPerSecond,
    step.targetTokensPerSecond,
    step.serverMicrosPerToken,
    step.serverCpuPercent,
    step.machineCpuPercent,
    `${step.turnRate.p5} / ${step.turnRate.p50}`,
    step.tokenLatencyP99,
    step.serverLoopDelayP99,
    step.clientCpuPercents.join(' + ') + (step.saturatedClients > 0 ? ' †' : ''),
    step.kept ? 'yes' : 'NO',
  ]),
);
const peerTable = markdownTable(
  [
    'streams',
    `${SERVER_LABELS[PEER]}: tokens/s`,
    'server µs/token',
    'server CPU %',
    'token p99 ms',
    'kept rate',
    'Parley µs/token ÷ peer',
  ],
  peerSteps.map((step) => {
    const parley = results.find((entry) => entry.streams === step.streams);
    return [
      step.streams,
      step.tokensPerSecond,
      step.serverMicrosPerToken,
      step.serverCpuPercent,
      step.tokenLatencyP99,
      step.kept ? 'yes' : 'NO',
      parley === undefined
        ? '–'
        : Math.round((parley.serverMicrosPerToken / step.serverMicrosPerToken) * 100) / 100,
    ];
  }),
);
emitResult(
  options,
  `Per-token cost (1 participant, ${setup.tokensPerTick} tokens per tick, ${setup.tokensPerSecond} tokens/s per stream, SQLite log, pacing 0)`,
  `${table}\n\nSustained: ${result.sustainedTokensPerSecond.toLocaleString('en-US')} tokens/s in one process with every stream at its rate. ${SATURATION_NOTE}\n\nThe same steps against ${SERVER_LABELS[PEER]} (same model, same clients; no log, no actors):\n\n${peerTable}`,
  result,
);
if (problems.length > 0) {
  process.stderr.write(`bench: problems:\n  ${problems.join('\n  ')}\n`);
  process.exitCode = 1;
}
