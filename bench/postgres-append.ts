/**
 * What one append batch costs the PostgreSQL event log, at 1, 10, 100 and 1000 entries per batch:
 * batches written one after another (one in flight, as the event log's writer does), entries
 * spread over 10 conversations, unfenced and with every conversation fenced; the SQLite store on
 * a temporary file beside it for scale. Reports the batch latency (p50, p99), entries per second
 * and this process's CPU per entry (PostgreSQL's own CPU is not counted).
 *
 * Run: `PARLEY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/postgres-append.ts`
 * (that URL is the default; `PARLEY_BENCH_BATCHES=1,10` picks the batch sizes). Uses a fresh schema,
 * dropped at the end. Not part of `npm run bench`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { EventStore } from '../src/event-log/event-store.js';
import type { LogEntry } from '../src/event-log/log-entry.js';
import { PostgresEventStore } from '../src/event-log/postgres-store.js';
import { SqliteEventStore } from '../src/event-log/sqlite-store.js';

const URL = process.env.PARLEY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BATCH_SIZES = (process.env.PARLEY_BENCH_BATCHES ?? '1,10,100,1000').split(',').map(Number);
const CONVERSATIONS = 10;
/** Entries written per scenario (at least 200 batches for the small sizes). */
const ENTRIES_PER_SCENARIO = 20_000;

interface Row {
  store: string;
  batch: number;
  batches: number;
  p50Ms: number;
  p99Ms: number;
  entriesPerSecond: number;
  cpuMicrosecondsPerEntry: number;
}

/** A streamed chunk frame as the engine logs it, about 250 bytes of JSON. */
function chunk(conversationId: string, position: number): LogEntry {
  return {
    v: 1,
    kind: 'frame',
    conversation_id: conversationId,
    position,
    at: Date.now(),
    seq: position,
    frame: {
      type: 'agent_response_chunk',
      conversation_id: conversationId,
      seq: position,
      timestamp: Date.now(),
      turn_id: 'turn_7f3a9c2e',
      message_id: 'msg_4b1d8e6f',
      delta: ' the quick brown',
    },
  };
}

async function measure(name: string, store: EventStore, batch: number, run: string): Promise<Row> {
  const positions = new Map<string, number>();
  const makeBatch = () =>
    Array.from({ length: batch }, (_, index) => {
      const conversation = `${run}-${index % CONVERSATIONS}`;
      const position = (positions.get(conversation) ?? 0) + 1;
      positions.set(conversation, position);
      return chunk(conversation, position);
    });
  for (let warmUp = 0; warmUp < 20; warmUp++) await store.append(makeBatch());
  const batches = Math.max(200, Math.ceil(ENTRIES_PER_SCENARIO / batch));
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let index = 0; index < batches; index++) {
    const entries = makeBatch();
    const before = performance.now();
    await store.append(entries);
    latencies.push(performance.now() - before);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const at = (fraction: number) => latencies[Math.floor(fraction * (latencies.length - 1))] ?? 0;
  return {
    store: name,
    batch,
    batches,
    p50Ms: round(at(0.5)),
    p99Ms: round(at(0.99)),
    entriesPerSecond: Math.round((batches * batch) / seconds),
    cpuMicrosecondsPerEntry: round((cpu.user + cpu.system) / (batches * batch)),
  };
}

const round = (value: number) => Math.round(value * 1000) / 1000;

const schema = `parley_bench_${randomBytes(4).toString('hex')}`;
const directory = mkdtempSync(join(tmpdir(), 'parley-bench-pg-'));
const rows: Row[] = [];
const postgres = await PostgresEventStore.open(URL, { schema });
const sqlite = SqliteEventStore.open(join(directory, 'log.db'));
try {
  for (const batch of BATCH_SIZES) {
    rows.push(await measure('postgres', postgres, batch, `plain-${batch}`));
    for (let index = 0; index < CONVERSATIONS; index++) {
      await postgres.fence(`fenced-${batch}-${index}`, 1);
    }
    rows.push(await measure('postgres fenced', postgres, batch, `fenced-${batch}`));
    rows.push(await measure('sqlite', sqlite, batch, `sqlite-${batch}`));
  }
} finally {
  await postgres.close();
  await sqlite.close();
  rmSync(directory, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
console.table(rows);
console.log(JSON.stringify({ benchmark: 'postgres-append', node: process.version, rows }));
