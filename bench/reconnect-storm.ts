/**
 * Reconnect storm (Parley only, default settings): N clients reconnect at once with `?since=`,
 * each resuming M frames it missed; the goal shape is 1,000 clients × 2,000 frames. Setup: per
 * conversation, one driver and some resumers connect; the resumers note the last seq they saw
 * and leave; each driver asks for one answer of M tokens; then every resumer reconnects at the
 * same instant. Reports the time until every resumer has every missed frame, how many the server
 * closed instead (by close code, and how many before their `welcome`), gaps and duplicates, and
 * the server's peak RSS during the storm (sampled every 50 ms).
 *
 * A resume that the server refuses or cuts short is this benchmark's finding, not its failure: it
 * exits 0 and says so; it exits non-zero only when it could not set the storm up. Resume pages
 * its catch-up (half the outbound limit per page, the next page after the socket flushed), so
 * peak RSS stays bounded by one page per resumer plus the clients' sockets.
 *
 * Run: `npx tsx bench/reconnect-storm.ts [--quick] [--streams N] [--json file]` (`--streams`: the
 * number of resumers).
 */
import type { StormReport } from './clients/resume-client.js';
import { benchScript, ensureBuilt } from './support/build.js';
import { startServer } from './support/bench-servers.js';
import { startChild } from './support/child-process.js';
import { sleep } from './support/clock.js';
import { parseBenchOptions } from './support/options.js';
import { emitResult, markdownTable, progress } from './support/report.js';
import type { ProcessUsage } from './support/usage.js';

/** The JSON result of this benchmark. */
export interface ReconnectStormResult {
  benchmark: 'reconnect-storm';
  setup: Record<string, number>;
  storm: StormReport | null;
  serverRssMiB: { before: number; peak: number; after: number };
  /** Every resumer resumed, with no gap, no duplicate and no termination. */
  allResumed: boolean;
  problems: string[];
}

const options = parseBenchOptions();
const build = ensureBuilt();
const resumers = options.streams?.[0] ?? (options.quick ? 100 : 1_000);
const resumersPerConversation = Math.min(10, resumers);
const setup = {
  resumers,
  resumersPerConversation,
  conversations: Math.ceil(resumers / resumersPerConversation),
  /** Tokens of the answer each resumer misses: M missed frames ≈ this + 3 + presences. */
  tokensMissed: options.quick ? 500 : 2_000,
  /** Parley's limit of unsent frames per connection: its default, unless the environment sets it. */
  outboundBufferFrames: Number(process.env.PARLEY_OUTBOUND_BUFFER_FRAMES ?? 256),
  stormTimeoutMs: options.quick ? 30_000 : 120_000,
};
const MiB = 2 ** 20;
const problems: string[] = [];

const server = await startServer(build, 'parley', {
  env: { BENCH_MODEL_TOKENS: String(setup.tokensMissed), BENCH_MODEL_TOKENS_PER_TICK: '10' },
  verbose: options.verbose,
});
const client = startChild({
  name: 'resume client',
  script: benchScript(build, 'clients/resume-client'),
  verbose: options.verbose,
});
let storm: StormReport | null = null;
const rss = { before: 0, peak: 0, after: 0 };
try {
  progress(
    `reconnect storm: ${setup.conversations} conversations, ${resumers} resumers, answers of ${setup.tokensMissed} tokens`,
  );
  const prepared = await client.request<{ answered: boolean; seconds: number }>(
    {
      type: 'prepare',
      port: server.port,
      conversations: setup.conversations,
      resumersPerConversation,
      timeoutMs: 300_000,
    },
    600_000,
  );
  if (!prepared.answered) problems.push('not every driver got its answer within 300 s');
  progress(`reconnect storm: frames to miss written in ${prepared.seconds.toFixed(1)} s; storming`);
  await sleep(1_000);
  rss.before = (await server.child.request<ProcessUsage>({ type: 'usage' })).memory.rss;
  rss.peak = rss.before;
  const sampling = { on: true };
  const sampler = (async () => {
    while (sampling.on) {
      const usage = await server.child.request<ProcessUsage>({ type: 'usage' });
      rss.peak = Math.max(rss.peak, usage.memory.rss);
      await sleep(50);
    }
  })();
  try {
    storm = await client.request<StormReport>(
      { type: 'storm', timeoutMs: setup.stormTimeoutMs },
      setup.stormTimeoutMs + 30_000,
    );
  } finally {
    sampling.on = false;
    await sampler;
  }
  rss.after = (await server.child.request<ProcessUsage>({ type: 'usage' })).memory.rss;
} catch (error) {
  problems.push(error instanceof Error ? error.message : String(error));
} finally {
  await client.stop(5_000);
  await server.stop();
}

const allResumed =
  storm !== null &&
  storm.resumed === storm.resumers &&
  storm.gaps === 0 &&
  storm.duplicates === 0 &&
  Object.keys(storm.terminated).length === 0;
const result: ReconnectStormResult = {
  benchmark: 'reconnect-storm',
  setup,
  storm,
  serverRssMiB: {
    before: Math.round((rss.before / MiB) * 10) / 10,
    peak: Math.round((rss.peak / MiB) * 10) / 10,
    after: Math.round((rss.after / MiB) * 10) / 10,
  },
  allResumed,
  problems,
};
const terminations =
  storm === null
    ? '—'
    : Object.entries(storm.terminated)
        .map(([code, count]) => `${count} × ${code}`)
        .join(', ') || '0';
const table = markdownTable(
  ['measure', 'value'],
  storm === null
    ? [['storm', 'not run (see problems)']]
    : [
        ['resumers', storm.resumers],
        [
          'frames missed each (min / mean / max)',
          `${storm.missed.min} / ${storm.missed.mean} / ${storm.missed.max}`,
        ],
        ['resumed every missed frame', storm.resumed],
        ['closed by the server (close code)', terminations],
        ['… of those before their welcome', storm.terminatedBeforeWelcome],
        ['neither, when time ran out', storm.pending],
        ['gaps / duplicates', `${storm.gaps} / ${storm.duplicates}`],
        [
          'seconds to resume half / all',
          `${storm.secondsToResumeHalf ?? '—'} / ${storm.secondsToResumeAll ?? 'not all resumed'}`,
        ],
        [
          'server RSS MiB before / peak / after',
          `${result.serverRssMiB.before} / ${result.serverRssMiB.peak} / ${result.serverRssMiB.after}`,
        ],
        ['client CPU %', storm.clientCpuPercent],
      ],
);
const verdict = allResumed
  ? 'Every resumer resumed gaplessly.'
  : `NOT every resumer resumed (${storm?.resumed ?? 0} of ${resumers}; closed: ${terminations}). ` +
    `Resume sends pages of at most half the outbound limit (${setup.outboundBufferFrames} frames) ` +
    'and the next only once the socket flushed, so a closed resumer points at a regression there ' +
    '(1006 at the client: the server terminated it, no close frame got through).';
emitResult(
  options,
  `Reconnect storm (${resumers} clients × ~${setup.tokensMissed} missed frames, outbound limit ${setup.outboundBufferFrames} frames${setup.outboundBufferFrames === 256 ? ': the default' : ': raised'})`,
  `${table}\n\n${verdict}`,
  result,
);
if (problems.length > 0) {
  process.stderr.write(`bench: problems:\n  ${problems.join('\n  ')}\n`);
  process.exitCode = 1;
}
