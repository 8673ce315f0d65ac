/**
 * How many events per second the event log writes to SQLite: through `createEventLog` (entries
 * appended one at a time, in bursts per tick, as the engine does) and straight into
 * `SqliteEventStore.append` with 1000-entry batches. Goal: at least 50,000 events/s.
 *
 * Run: `npx tsx bench/event-log-append.ts [--quick]`. Prints a table, then a JSON summary; the
 * temporary database is removed at the end.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEventLog } from '../src/event-log/event-log.js';
import type { EventStore } from '../src/event-log/event-store.js';
import type { LogEntry, NewLogEntry } from '../src/event-log/log-entry.js';
import { SqliteEventStore } from '../src/event-log/sqlite-store.js';

const GOAL_EVENTS_PER_SECOND = 50_000;
const CONVERSATIONS = 100;
const quick = process.argv.includes('--quick');
const scale = quick ? 0.1 : 1;
/** Each scenario runs this often on a fresh file; the table shows the median run. */
const RUNS = quick ? 1 : 3;

interface Result {
  scenario: string;
  /** Events/s of every run, the median one reported in the other fields. */
  runs?: number[];
  entries: number;
  seconds: number;
  eventsPerSecond: number;
  storeAppendCalls: number;
  meanBatch: number;
  /** Time from a burst's first append to its afterDurable callback. */
  durableLatencyMs?: { p50: number; p99: number; max: number };
  fileBytes: number;
}

const directory = mkdtempSync(join(tmpdir(), 'parley-bench-event-log-'));
let files = 0;

/** A streamed chunk frame as the engine logs it: about 250 bytes of JSON per entry. */
function chunkEntry(conversationId: string, seq: number): NewLogEntry {
  return {
    kind: 'frame',
    conversation_id: conversationId,
    at: Date.now(),
    seq,
    frame: {
      type: 'agent_response_chunk',
      conversation_id: conversationId,
      seq,
      timestamp: Date.now(),
      turn_id: 'turn_7f3a9c2e',
      message_id: 'msg_4b1d8e6f',
      delta: ' the quick brown',
    },
  };
}

const conversationIds = Array.from(
  { length: CONVERSATIONS },
  (_, index) => `conversation-${String(index).padStart(3, '0')}`,
);

/** Counts the store.append calls (batches) the log makes. */
function counting(store: EventStore): EventStore & { calls: number } {
  const counted = {
    calls: 0,
    append: (entries: readonly LogEntry[]) => {
      counted.calls += 1;
      return store.append(entries);
    },
    readEntries: store.readEntries.bind(store),
    readFrames: store.readFrames.bind(store),
    lastPosition: store.lastPosition.bind(store),
    firstRetainedSeq: store.firstRetainedSeq.bind(store),
    listConversations: store.listConversations.bind(store),
    close: store.close.bind(store),
  };
  return counted;
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

async function throughEventLog(total: number, burst: number): Promise<Result> {
  const path = join(directory, `log-${++files}.db`);
  const store = counting(SqliteEventStore.open(path));
  const log = createEventLog({ store });
  for (const id of conversationIds) await log.open(id);
  const seqs = new Map(conversationIds.map((id) => [id, 0]));
  const latencies: number[] = [];

  const started = performance.now();
  for (let done = 0; done < total;) {
    const burstStarted = performance.now();
    const size = Math.min(burst, total - done);
    for (let index = 0; index < size; index++) {
      const id = conversationIds[(done + index) % CONVERSATIONS] ?? 'conversation-000';
      const seq = (seqs.get(id) ?? 0) + 1;
      seqs.set(id, seq);
      log.append(id, [chunkEntry(id, seq)]);
    }
    log.afterDurable(() => latencies.push(performance.now() - burstStarted));
    done += size;
    await nextTick();
  }
  await log.flush();
  const seconds = (performance.now() - started) / 1000;
  await log.close();

  latencies.sort((a, b) => a - b);
  return {
    scenario: `createEventLog, bursts of ${burst} per tick`,
    entries: total,
    seconds: round(seconds, 3),
    eventsPerSecond: Math.round(total / seconds),
    storeAppendCalls: store.calls,
    meanBatch: round(total / store.calls, 1),
    durableLatencyMs: {
      p50: round(percentile(latencies, 0.5), 2),
      p99: round(percentile(latencies, 0.99), 2),
      max: round(latencies.at(-1) ?? 0, 2),
    },
    fileBytes: fileSize(path),
  };
}

async function rawStoreAppend(total: number, batchSize: number): Promise<Result> {
  const path = join(directory, `log-${++files}.db`);
  const store = SqliteEventStore.open(path);
  const positions = new Map(conversationIds.map((id) => [id, 0]));
  const batches: LogEntry[][] = [];
  for (let done = 0; done < total; done += batchSize) {
    const batch: LogEntry[] = [];
    for (let index = 0; index < Math.min(batchSize, total - done); index++) {
      const id = conversationIds[(done + index) % CONVERSATIONS] ?? 'conversation-000';
      const position = (positions.get(id) ?? 0) + 1;
      positions.set(id, position);
      batch.push({ ...chunkEntry(id, position), v: 1, position });
    }
    batches.push(batch);
  }

  const started = performance.now();
  for (const batch of batches) await store.append(batch);
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return {
    scenario: `SqliteEventStore.append, batches of ${batchSize}`,
    entries: total,
    seconds: round(seconds, 3),
    eventsPerSecond: Math.round(total / seconds),
    storeAppendCalls: batches.length,
    meanBatch: batchSize,
    fileBytes: fileSize(path),
  };
}

/** Runs a scenario {@link RUNS} times and keeps the median run, with every run's rate. */
async function median(scenario: () => Promise<Result>): Promise<Result> {
  const runs: Result[] = [];
  for (let run = 0; run < RUNS; run++) runs.push(await scenario());
  const rates = runs.map((result) => result.eventsPerSecond);
  runs.sort((a, b) => a.eventsPerSecond - b.eventsPerSecond);
  const middle = runs[Math.floor(runs.length / 2)];
  if (middle === undefined) throw new Error('No run');
  return { ...middle, runs: rates };
}

function fileSize(path: string): number {
  let bytes = 0;
  for (const suffix of ['', '-wal']) {
    try {
      bytes += statSync(path + suffix).size;
    } catch {
      // The WAL is gone once the last connection has checkpointed it.
    }
  }
  return bytes;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function printTable(results: readonly Result[]): void {
  const rows = results.map((result) => [
    result.scenario,
    result.entries.toLocaleString('en-US'),
    result.seconds.toFixed(3),
    result.eventsPerSecond.toLocaleString('en-US'),
    `${Math.min(...(result.runs ?? [])).toLocaleString('en-US')}-${Math.max(...(result.runs ?? [])).toLocaleString('en-US')}`,
    result.meanBatch.toString(),
    result.durableLatencyMs === undefined
      ? '-'
      : `${result.durableLatencyMs.p50} / ${result.durableLatencyMs.p99}`,
  ]);
  const header = [
    'scenario',
    'entries',
    'seconds',
    'events/s (median)',
    'runs min-max',
    'mean batch',
    'durable p50/p99 ms',
  ];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const sampleBytes = Buffer.byteLength(
    JSON.stringify({ ...chunkEntry('conversation-000', 12_345), v: 1, position: 12_345 }),
  );
  const results: Result[] = [];
  try {
    results.push(await median(() => throughEventLog(Math.round(200_000 * scale), 1000)));
    results.push(await median(() => throughEventLog(Math.round(100_000 * scale), 100)));
    results.push(await median(() => throughEventLog(Math.round(20_000 * scale), 10)));
    results.push(await median(() => rawStoreAppend(Math.round(200_000 * scale), 1000)));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }

  console.log(
    `event log append: ${CONVERSATIONS} conversations, ~${sampleBytes} bytes per entry body, SQLite WAL, synchronous=NORMAL, median of ${RUNS} run(s)${quick ? ' (quick)' : ''}\n`,
  );
  printTable(results);
  // Every burst size against the goal: bursts of 1,000 are the best case, bursts of 10 and 100
  // are closer to what one or two chats commit per tick.
  console.log('');
  for (const result of results.filter((each) => each.scenario.startsWith('createEventLog'))) {
    console.log(
      `${result.eventsPerSecond >= GOAL_EVENTS_PER_SECOND ? 'PASS' : 'FAIL'}: ${result.eventsPerSecond.toLocaleString('en-US')} events/s, ${result.scenario} (goal ${GOAL_EVENTS_PER_SECOND.toLocaleString('en-US')})`,
    );
  }
  console.log('');
  console.log(
    JSON.stringify(
      {
        benchmark: 'event-log-append',
        quick,
        node: process.version,
        conversations: CONVERSATIONS,
        entryBodyBytes: sampleBytes,
        goalEventsPerSecond: GOAL_EVENTS_PER_SECOND,
        results,
      },
      null,
      2,
    ),
  );
}

await main();
