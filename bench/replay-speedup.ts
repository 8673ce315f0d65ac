/**
 * Replay speed-up: builds a 5-minute recorded session (30 ms token pacing, offline model, real
 * tools) under virtual time, then replays it and compares wall time with recorded time.
 *
 *   npx tsx bench/replay-speedup.ts [--minutes 5] [--runs 3]
 *
 * Goal (issue 3): a 5-minute session replays in well under a second, at least 1000× real time.
 *
 * Most of a recorded session is waiting that a replay skips on its virtual clock: a second of
 * "reading time" between turns, and the 30 ms pacing before each token. So the speed-up is given
 * twice: over the whole recorded time (the goal's figure), and over the time inside turns only
 * (from each user_message to its completion: the reading time removed, the pacing still in). The
 * frames replayed per second of wall time say what the replay itself costs, with no waiting in it.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createEngine, type ConnectionHandle } from '../src/engine.js';
import { MemoryEventStore } from '../src/event-log/memory-store.js';
import { formatRecording, parseRecording } from '../src/replay/read-recording.js';
import { replayRecording } from '../src/replay/replay-recording.js';
import { VirtualClock } from '../src/replay/virtual-clock.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '5' }, runs: { type: 'string', default: '3' } },
});
const minutes = Number(values.minutes);
const runs = Number(values.runs);
const prompts = [
  'what can you do?',
  'What is (5 + 3) * 2 ^ 3?',
  'weather in Paris',
  'tell me about concurrency',
  'current time in Tokyo',
  'search for websocket',
  'explain AI agents',
];

async function recordSession(durationMs: number): Promise<string> {
  const clock = new VirtualClock(Date.UTC(2026, 10, 24));
  const store = new MemoryEventStore({ maxEntriesPerConversation: 1_000_000_000 });
  const config = loadConfig({}, { database: 'memory', tokenPacingMs: 30 });
  const engine = createEngine({
    config,
    store,
    now: clock.now,
    scheduler: clock.scheduler,
    clock: clock.xstate,
    takeRateToken: () => ({ allowed: true }),
  });
  const opened: { handle?: ConnectionHandle } = {};
  const pong = () =>
    clock.scheduler.schedule(() => opened.handle?.send({ type: 'socket.pong' }), 0);
  const handle = await engine.openConnection({
    connectionId: 'conn_bench',
    userId: 'alice',
    conversationId: 'bench',
    socket: {
      send: () => undefined,
      close: () => undefined,
      terminate: () => undefined,
      ping: pong,
    },
  });
  // The socket answers the heartbeat's pings through this handle; without it the connection is
  // dropped after two missed pongs and the rest of the session is never delivered.
  opened.handle = handle;
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  for (let turn = 0; clock.elapsed < durationMs; turn += 1) {
    const content = prompts[turn % prompts.length] ?? 'help';
    handle.send({ type: 'frame.received', frame: { type: 'user_message', content } });
    await settle();
    while (engine.pool.running + engine.pool.waiting > 0 && clock.advanceToNext()) await settle();
    // A second of "reading time" before the next message.
    clock.scheduler.schedule(() => undefined, 1000);
    while (clock.advanceToNext() && clock.scheduler.actions.some((a) => a.delay <= clock.elapsed)) {
      await settle();
    }
  }
  await engine.dispose({ keepStore: true });
  return formatRecording(await store.readEntries('bench'));
}

const text = await recordSession(minutes * 60_000);
const recording = parseRecording(text, `${minutes}-minute session`);
const chunks = recording.entries.filter(
  (entry) => entry.kind === 'frame' && entry.frame.type === 'agent_response_chunk',
).length;
// A session cut short (a dropped connection, a model that stops) would make the speed-up a
// figure about a different workload: refuse it.
const recordedMs = Math.max(
  0,
  (recording.entries.at(-1)?.at ?? 0) - (recording.entries[0]?.at ?? 0),
);
if (recordedMs < minutes * 60_000 * 0.95) {
  throw new Error(
    `The recorded session lasts ${String(Math.round(recordedMs / 1000))} s, not the ${String(minutes * 60)} s asked for.`,
  );
}
// Time inside turns: each user_message to the agent_response_complete that follows it.
let turnMs = 0;
let turnStartedAt: number | undefined;
for (const entry of recording.entries) {
  if (entry.kind !== 'frame') continue;
  if (entry.frame.type === 'user_message') turnStartedAt ??= entry.at;
  if (entry.frame.type === 'agent_response_complete' && turnStartedAt !== undefined) {
    turnMs += entry.at - turnStartedAt;
    turnStartedAt = undefined;
  }
}
const results = [];
for (let run = 0; run < runs; run += 1) {
  const result = await replayRecording(recording);
  if (!result.ok) throw new Error(`replay diverged at seq ${String(result.divergence?.seq)}`);
  results.push(result);
}
const summary = {
  benchmark: 'replay-speedup',
  recorded_seconds: Math.round((results[0]?.recordedMs ?? 0) / 100) / 10,
  entries: recording.entries.length,
  frames: results[0]?.frames ?? 0,
  token_chunks: chunks,
  replay_ms: results.map((result) => Math.round(result.replayMs)),
  speedup: results.map((result) => Math.round(result.speedup)),
  turn_seconds: Math.round(turnMs / 100) / 10,
  /** Speed-up over the time inside turns only: the reading time between turns not counted. */
  speedup_without_idle: results.map((result) => Math.round(turnMs / result.replayMs)),
  frames_per_second: results.map((result) => Math.round(result.frames / (result.replayMs / 1000))),
  node: process.version,
};
console.log(JSON.stringify(summary));
console.log(
  `\n${summary.recorded_seconds} s recorded (${summary.frames} frames, ${chunks} token chunks at 30 ms)\n` +
    results
      .map(
        (result, index) =>
          `  run ${index + 1}: replayed in ${result.replayMs.toFixed(0)} ms = ${Math.round(result.speedup)}× the recorded time, ${Math.round(turnMs / result.replayMs)}× the ${summary.turn_seconds} s inside turns (reading time skipped), ${Math.round(result.frames / (result.replayMs / 1000)).toLocaleString('en-US')} frames/s`,
      )
      .join('\n'),
);
