/**
 * Conversation memory (Parley only): 10,000 one-participant conversations with their connections,
 * the server's memory after a forced GC at each stage:
 *
 * 1. `connected, awake`: every connection joined, measured at once (the first 30–60 s of every
 *    connection under the defaults, or always with hibernation off);
 * 2. `hibernated`: once every connection has hibernated (a 5 s heartbeat and 20 s to hibernate
 *    here, longer than connecting and measuring take, so stage 1 sees every connection awake: the
 *    table shows how many had hibernated at each stage; the defaults are 30 s each);
 * 3. `no participant, no turn`: every connection closed; the conversations stay (300 s by
 *    default) with no participant and no turn: heap per conversation here is an idle
 *    conversation's own cost;
 * 4. `after one turn, hibernated` (full mode): every participant back, every conversation ran
 *    one short answer (20 tokens), then its connection hibernated again;
 * 5. `no participant, after one turn` (full mode): every connection closed again.
 *
 * Per conversation = (stage − baseline) / conversations, the baseline taken after 200 warm-up
 * connections came and went. RSS includes V8's free heap pages; heap used is the tighter figure.
 *
 * Run: `npx tsx bench/conversation-memory.ts [--quick] [--streams N] [--json file]` (`--streams`:
 * the number of conversations).
 */
import { ensureBuilt } from './support/build.js';
import { startServer } from './support/bench-servers.js';
import { sleep } from './support/clock.js';
import { LoadGenerators } from './support/load-generators.js';
import { parseBenchOptions } from './support/options.js';
import { emitResult, markdownTable, progress } from './support/report.js';
import type { ProcessUsage } from './support/usage.js';

/** Memory at one stage. */
export interface MemoryStage {
  stage:
    | 'baseline'
    | 'connected, awake'
    | 'hibernated'
    | 'no participant, no turn'
    | 'after one turn, hibernated'
    | 'no participant, after one turn';
  rssMiB: number;
  heapUsedMiB: number;
  rssKiBPerConversation: number;
  heapKiBPerConversation: number;
  /** What the server reported: open and hibernated connections, live conversation actors. */
  connections: number;
  hibernated: number;
  conversations: number;
}

/** The JSON result of this benchmark. */
export interface ConversationMemoryResult {
  benchmark: 'conversation-memory';
  setup: Record<string, number>;
  stages: MemoryStage[];
  problems: string[];
}

interface ServerStats {
  connections: number;
  hibernated: number;
  conversations: number;
}

const options = parseBenchOptions();
const build = ensureBuilt();
const setup = {
  conversations: options.streams?.[0] ?? (options.quick ? 2_000 : 10_000),
  heartbeatMs: 5_000,
  // 8 s was too short in a quick run on a busy machine: 604 of 2,000 had hibernated at stage 1.
  hibernateAfterMs: 20_000,
  tokensPerTurn: 20,
  warmupConnections: 200,
};
const MiB = 2 ** 20;
const problems: string[] = [];
const stages: MemoryStage[] = [];

const server = await startServer(build, 'parley', {
  nodeFlags: ['--expose-gc'],
  env: {
    PARLEY_HEARTBEAT_MS: String(setup.heartbeatMs),
    PARLEY_HIBERNATE_AFTER_MS: String(setup.hibernateAfterMs),
    BENCH_MODEL_TOKENS: String(setup.tokensPerTurn),
  },
  verbose: options.verbose,
});
const stats = () => server.child.request<ServerStats>({ type: 'stats' });

/** Polls the server's statistics until `done`, at most `timeoutMs`; false on timeout. */
async function until(done: (current: ServerStats) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done(await stats())) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

let baseline: ProcessUsage | undefined;
async function measure(stage: MemoryStage['stage']): Promise<void> {
  const usage = await server.child.request<ProcessUsage>({ type: 'measure' });
  baseline ??= usage;
  const current = await stats();
  const per = (field: 'rss' | 'heapUsed') =>
    stage === 'baseline'
      ? 0
      : Math.round(
          ((usage.memory[field] - (baseline?.memory[field] ?? 0)) / setup.conversations / 1024) *
            100,
        ) / 100;
  stages.push({
    stage,
    rssMiB: Math.round((usage.memory.rss / MiB) * 10) / 10,
    heapUsedMiB: Math.round((usage.memory.heapUsed / MiB) * 10) / 10,
    rssKiBPerConversation: per('rss'),
    heapKiBPerConversation: per('heapUsed'),
    connections: current.connections,
    hibernated: current.hibernated,
    conversations: current.conversations,
  });
  progress(`conversation memory: ${stage}: RSS ${(usage.memory.rss / MiB).toFixed(1)} MiB`);
  if (stage === 'connected, awake' && current.hibernated > 0) {
    progress(`conversation memory: ${current.hibernated} connections had already hibernated`);
  }
}

try {
  // Warm-up connections in conversations of their own. Their conversations outlive them (the
  // default idle time is the subject here), so they are in the baseline and in every stage alike.
  const warmup = LoadGenerators.start(build, 1, options.verbose);
  await warmup.connect({
    transport: 'ws',
    port: server.port,
    conversations: setup.warmupConnections,
    firstConversation: 1_000_000,
    participants: 1,
  });
  await warmup.close();
  await warmup.shutdown();
  await sleep(1_500);
  await measure('baseline');

  const total = setup.conversations;
  const hibernationDeadline = setup.heartbeatMs * 2 + setup.hibernateAfterMs + 20_000;
  const clients = LoadGenerators.start(build, 1, options.verbose);
  const connectAll = async () => {
    const connected = await clients.connect({
      transport: 'ws',
      port: server.port,
      conversations: total,
      participants: 1,
    });
    if (connected.failed > 0) problems.push(`${connected.failed} connections failed`);
  };
  const closeAll = async (stage: MemoryStage['stage']) => {
    await clients.close();
    await until((current) => current.connections === 0, 30_000);
    await sleep(1_000);
    await measure(stage);
  };
  const allHibernated = async (what: string) => {
    if (!(await until((current) => current.hibernated >= total, hibernationDeadline))) {
      problems.push(`not every connection hibernated within ${hibernationDeadline} ms ${what}`);
    }
  };
  try {
    await connectAll();
    await measure('connected, awake');
    await allHibernated('after connecting');
    await measure('hibernated');
    await closeAll('no participant, no turn');
    if (!options.quick) {
      await connectAll();
      await clients.start({
        content: 'A short answer.',
        staggerMs: 1_000,
        retryBusyMs: 50,
        maxTurns: 1,
      });
      const behind = await clients.waitForTurns(1, 120_000);
      if (behind > 0) problems.push(`${behind} conversations did not complete their turn`);
      await clients.stop(1_000);
      await allHibernated('after their turn');
      await measure('after one turn, hibernated');
      await closeAll('no participant, after one turn');
    }
  } finally {
    await clients.shutdown();
  }
  // The count includes the warm-up's conversations: a lower bound check is enough.
  const last = stages.at(-1);
  if (last !== undefined && last.conversations < setup.conversations) {
    problems.push(`only ${last.conversations} conversations were kept without a participant`);
  }
} finally {
  await server.stop();
}

const result: ConversationMemoryResult = {
  benchmark: 'conversation-memory',
  setup,
  stages,
  problems,
};
const table = markdownTable(
  [
    'stage',
    'RSS MiB',
    'heap used MiB',
    'RSS KiB/conversation',
    'heap KiB/conversation',
    'connections (hibernated)',
    'conversation actors',
  ],
  stages.map((stage) => [
    stage.stage,
    stage.rssMiB,
    stage.heapUsedMiB,
    stage.rssKiBPerConversation,
    stage.heapKiBPerConversation,
    `${stage.connections} (${stage.hibernated})`,
    stage.conversations,
  ]),
);
emitResult(
  options,
  `Conversation memory (${setup.conversations.toLocaleString('en-US')} one-participant conversations; memory after forced GC)`,
  `${table}\n\nPer conversation = (stage − baseline) / ${setup.conversations.toLocaleString('en-US')}. "no participant": every connection closed, the conversations kept (PARLEY_CONVERSATION_IDLE_MS, 300 s by default). The baseline holds the ${setup.warmupConnections} warm-up conversations, idle too.`,
  result,
);
if (problems.length > 0) {
  process.stderr.write(`bench: problems:\n  ${problems.join('\n  ')}\n`);
  process.exitCode = 1;
}
