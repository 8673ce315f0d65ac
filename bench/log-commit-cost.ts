/**
 * What one commit of the SQLite event log costs, by the number of entries it carries: the shape
 * of a streamed answer under light load is one or two token entries per commit, spread over many
 * conversations (schema version 2 wrote an index page per conversation in each commit; version 3
 * appends the entries in order and stores their index as runs once 4,096 of them wait). Straight into `SqliteEventStore.append` on a file in a
 * temporary directory, inline checkpoints, with the default retention (1,000,000 entries per
 * conversation) and with none, so that the retention trim's share shows.
 *
 * Reports CPU (user + system of this process) and wall time per entry. A micro-benchmark of the
 * log alone: the engine, the sockets and the statechart are in `token-cost.ts`.
 *
 * Run: `npx tsx bench/log-commit-cost.ts [--quick]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEntry } from '../src/event-log/log-entry.js';
import { LOG_ENTRY_VERSION } from '../src/event-log/log-entry.js';
import { SqliteEventStore } from '../src/event-log/sqlite-store.js';

const quick = process.argv.includes('--quick');
const ENTRIES = quick ? 6_000 : 30_000;
const CONVERSATIONS = 60;
const BATCHES = [1, 2, 10, 100];
const RETENTIONS: { label: string; retention: number | undefined }[] = [
  { label: 'default retention (1,000,000)', retention: 1_000_000 },
  { label: 'no retention', retention: undefined },
];

interface Row {
  retention: string;
  entriesPerCommit: number;
  cpuMicrosPerEntry: number;
  wallMicrosPerEntry: number;
}

const directory = mkdtempSync(join(tmpdir(), 'parley-bench-log-commit-'));

async function measure(retention: number | undefined, perCommit: number): Promise<Row> {
  const path = join(directory, `log-${String(retention)}-${String(perCommit)}.db`);
  const store = SqliteEventStore.open(path, {
    checkpoints: 'inline',
    ...(retention === undefined ? {} : { retentionPerConversation: retention }),
  });
  const positions = new Array<number>(CONVERSATIONS).fill(0);
  const delta = ' token';
  let next = 0;
  const batch = (): LogEntry[] =>
    Array.from({ length: perCommit }, () => {
      const conversation = next++ % CONVERSATIONS;
      const position = (positions[conversation] ?? 0) + 1;
      positions[conversation] = position;
      return {
        v: LOG_ENTRY_VERSION,
        kind: 'frame',
        conversation_id: `conversation-${String(conversation)}`,
        position,
        at: Date.now(),
        seq: position,
        frame: {
          type: 'agent_response_chunk',
          turn_id: 'turn_0123456789ab',
          message_id: 'msg_0123456789ab',
          chunk_index: position,
          delta,
          conversation_id: `conversation-${String(conversation)}`,
          seq: position,
          timestamp: Date.now(),
        },
      };
    });
  // Warm-up: statements, pages and the WAL exist before the measured commits.
  for (let i = 0; i < 200; i += 1) await store.append(batch());
  const commits = Math.ceil(ENTRIES / perCommit);
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < commits; i += 1) await store.append(batch());
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await store.close();
  const entries = commits * perCommit;
  return {
    retention: RETENTIONS.find((r) => r.retention === retention)?.label ?? String(retention),
    entriesPerCommit: perCommit,
    cpuMicrosPerEntry: Math.round(((used.user + used.system) / entries) * 100) / 100,
    wallMicrosPerEntry: Math.round(((wall * 1000) / entries) * 100) / 100,
  };
}

try {
  const rows: Row[] = [];
  for (const perCommit of BATCHES) {
    for (const { retention } of RETENTIONS) rows.push(await measure(retention, perCommit));
  }
  console.log('| retention | entries per commit | CPU µs per entry | wall µs per entry |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of rows) {
    console.log(
      `| ${row.retention} | ${String(row.entriesPerCommit)} | ${String(row.cpuMicrosPerEntry)} | ${String(row.wallMicrosPerEntry)} |`,
    );
  }
  console.log(JSON.stringify({ benchmark: 'log-commit-cost', entries: ENTRIES, rows }));
} finally {
  rmSync(directory, { recursive: true, force: true });
}
