/**
 * Conversation memory (Parley only): 10,000 one-participant conversations with their connections,
 * the server's memory after a forced GC at each stage:
 *
 * 1. `connected, awake`: every connection joined, measured at once (the first 30–60 s of every
 *    connection and conversation under the defaults, or always with hibernation off);
 * 2. `hibernated`: once every connection and every conversation has hibernated (a 5 s heartbeat
 *    and 60 s to hibernate here, longer than connecting and measuring take on a busy machine, so
 *    stage 1 sees everything awake: the table shows how many had hibernated at each stage; the
 *    defaults are 30 s each);
 * 3. `no participant, no turn`: every connection closed, measured 1 s after the last close: a
 *    hibernated conversation takes a leave in place (logged, the others told) without waking
 *    (`actors/hibernated-leave.ts`; before, each leave woke its conversation, which, empty,
 *    hibernated again at once, and this stage caught that wave); a conversation still awake
 *    hibernates at once when emptied (`PARLEY_CONVERSATION_EMPTY_HIBERNATE_AFTER_MS`, 0);
 * 4. `no participant, hibernated`: once those conversations hibernated again; they are kept
 *    (300 s by default) as records: heap per conversation here is an idle conversation's own cost;
 * 5. `after one turn, hibernated` (full mode): every participant back, every conversation ran
 *    one short answer (20 tokens), then it and its connection hibernated again;
 * 6. `no participant, after one turn` (full mode): every connection closed again, hibernated.
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
    | 'no participant, hibernated'
    | 'after one turn, hibernated'
    | 'no participant, after one turn';
  rssMiB: number;
  heapUsedMiB: number;
  rssKiBPerConversation: number;
  heapKiBPerConversation: number;
  /** What the server reported: open and hibernated connections, conversation actors, records. */
  connections: number;
  hibernated: number;
  conversations: number;
  hibernatedConversations: number;
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
  hibernated_conversations: number;
  /** Absent from servers older than this field: read as 0. */
  waking_conversations?: number;
}

const options = parseBenchOptions();
const build = ensureBuilt();
const setup = {
  conversations: options.streams?.[0] ?? (options.quick ? 2_000 : 10_000),
  heartbeatMs: 5_000,
  // 8 s was too short in a quick run on a busy machine: 604 of 2,000 had hibernated at stage 1;
  // 20 s too, with 10,000 (9,968 had).
  hibernateAfterMs: 60_000,
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
    PARLEY_CONVERSATION_HIBERNATE_AFTER_MS: String(setup.hibernateAfterMs),
    BENCH_MODEL_TOKENS: String(setup.tokensPerTurn),
    // Full mode starts one turn in each of the 10,000 conversations within a second. With the
    // default queue of 100, all but 110 were refused `busy` and retried every 50 ms, and the
    // refusals took the server: the first full run finished 2,330 turns in its 2 minutes. A queue
    // that holds them all, and no pacing; memory after a turn depends on neither.
    PARLEY_TURN_QUEUE: '20000',
    PARLEY_TOKEN_PACING_MS: '0',
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
    hibernatedConversations: current.hibernated_conversations,
  });
  progress(`conversation memory: ${stage}: RSS ${(usage.memory.rss / MiB).toFixed(1)} MiB`);
  if (stage === 'connected, awake' && current.hibernated + current.hibernated_conversations > 0) {
    progress(
      `conversation memory: ${current.hibernated} connections and ${current.hibernated_conversations} conversations had already hibernated`,
    );
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
  // The warm-up's conversations hibernate too: at least `total` records. No conversation actor
  // may still run: a conversation still awake when its last connection closes hibernates at once
  // (PARLEY_CONVERSATION_EMPTY_HIBERNATE_AFTER_MS, 0); a hibernated one takes the leave in place.
  const allHibernated = async (what: string, connections: boolean) => {
    const done = (current: ServerStats) =>
      (!connections || current.hibernated >= total) &&
      current.hibernated_conversations >= total &&
      current.conversations === 0 &&
      (current.waking_conversations ?? 0) === 0;
    if (!(await until(done, hibernationDeadline))) {
      problems.push(`not everything hibernated within ${hibernationDeadline} ms ${what}`);
    }
  };
  try {
    await connectAll();
    await measure('connected, awake');
    await allHibernated('after connecting', true);
    await measure('hibernated');
    await closeAll('no participant, no turn');
    await allHibernated('after closing', false);
    await measure('no participant, hibernated');
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
      await allHibernated('after their turn', true);
      await measure('after one turn, hibernated');
      await closeAll('no participant, after one turn');
      await allHibernated('after closing again', false);
      await measure('no participant, after one turn');
    }
  } finally {
    await clients.shutdown();
  }
  // The count includes the warm-up's conversations: a lower bound check is enough.
  const last = stages.at(-1);
  if (
    last !== undefined &&
    last.conversations + last.hibernatedConversations < setup.conversations
  ) {
    problems.push(
      `only ${last.conversations + last.hibernatedConversations} conversations were kept without a participant`,
    );
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
    'conversation actors (hibernated)',
  ],
  stages.map((stage) => [
    stage.stage,
    stage.rssMiB,
    stage.heapUsedMiB,
    stage.rssKiBPerConversation,
    stage.heapKiBPerConversation,
    `${stage.connections} (${stage.hibernated})`,
    `${stage.conversations} (${stage.hibernatedConversations})`,
  ]),
);
emitResult(
  options,
  `Conversation memory (${setup.conversations.toLocaleString('en-US')} one-participant conversations; memory after forced GC)`,
  `${table}\n\nPer conversation = (stage − baseline) / ${setup.conversations.toLocaleString('en-US')}. "no participant": every connection closed, the conversations kept (PARLEY_CONVERSATION_IDLE_MS, 300 s by default), measured 1 s after the last close, then once none is awake (a hibernated conversation takes its leave without waking). Goal: RSS < 200 MB at every stage with 10,000; an idle (hibernated) conversation ≤ 2 KiB of heap. The baseline holds the ${setup.warmupConnections} warm-up conversations, idle too.`,
  result,
);
if (problems.length > 0) {
  process.stderr.write(`bench: problems:\n  ${problems.join('\n  ')}\n`);
  process.exitCode = 1;
}
