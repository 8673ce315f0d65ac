/**
 * How long the SQLite event log's upgrade from schema version 2 to 3 takes at start: a version 2
 * file of `--entries` entries (default 1,000,000; `--quick` 100,000) of about 500 bytes each,
 * spread over 1,000 conversations and written interleaved as a server writes them, then
 * `SqliteEventStore.open` on it, which upgrades it in one transaction (docs/EVENT_LOG.md). Reports
 * the file's size before and after, the upgrade's wall time, and a read of 100 entries after it.
 *
 * Run: `npx tsx bench/log-upgrade.ts [--quick] [--entries n]`
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { frameEntry } from '../src/event-log/event-store.contract.js';
import { SqliteEventStore } from '../src/event-log/sqlite-store.js';
import { VERSION_2_TABLES, writeVersion2Rows } from '../src/event-log/sqlite-test-files.js';

const quick = process.argv.includes('--quick');
const entriesFlag = process.argv.indexOf('--entries');
const entries = entriesFlag > 0 ? Number(process.argv[entriesFlag + 1]) : quick ? 100_000 : 1e6;
if (!Number.isInteger(entries) || entries < 1) throw new RangeError('--entries must be ≥ 1');
const conversations = 1_000;

const directory = mkdtempSync(join(tmpdir(), 'parley-bench-log-upgrade-'));
const path = join(directory, 'log.db');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
try {
  const old = new Database(path);
  old.pragma('journal_mode = WAL');
  old.pragma('synchronous = NORMAL');
  old.exec(`${VERSION_2_TABLES} INSERT INTO meta (key, value) VALUES ('schema_version', '2');`);
  const delta = 'x'.repeat(330);
  old.transaction(() => {
    for (let start = 0; start < entries; start += 10_000) {
      const batch = [];
      for (let index = start; index < Math.min(entries, start + 10_000); index += 1) {
        const position = Math.floor(index / conversations) + 1;
        batch.push(
          frameEntry(`conversation-${index % conversations}`, position, position, {
            type: 'agent_response_chunk',
          }),
        );
        (batch.at(-1)?.frame as { delta?: string }).delta = delta;
      }
      writeVersion2Rows(old, batch);
    }
  })();
  old.pragma('wal_checkpoint(TRUNCATE)');
  old.close();
  const before = statSync(path).size;

  const started = performance.now();
  const store = SqliteEventStore.open(path);
  const upgradeMs = performance.now() - started;
  const readStarted = performance.now();
  const read = await store.readEntries('conversation-7', {
    afterPosition: Math.floor(entries / conversations / 2),
    limit: 100,
  });
  const readMs = performance.now() - readStarted;
  await store.close();
  console.log(
    `${entries.toLocaleString('en')} entries, version 2 file ${mib(before)}: upgrade ${(upgradeMs / 1000).toFixed(1)} s; ` +
      `file after ${mib(statSync(path).size)}; then ${read.length} entries read in ${readMs.toFixed(1)} ms`,
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
}
