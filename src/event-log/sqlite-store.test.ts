import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { closedAfterEach } from '../../test/support/closed-after-each.js';
import { ParleyError } from '../errors.js';
import { describeEventStoreContract, frameEntry, partEntry } from './event-store.contract.js';
import { VERSION_2_TABLES, writeVersion2Rows } from './sqlite-test-files.js';
import { SqliteEventStore } from './sqlite-store.js';

const directory = mkdtempSync(join(tmpdir(), 'parley-sqlite-store-'));
let files = 0;
const nextPath = () => join(directory, `log-${++files}.db`);

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describeEventStoreContract('SqliteEventStore', ({ retention }) =>
  SqliteEventStore.open(
    nextPath(),
    retention === undefined ? {} : { retentionPerConversation: retention },
  ),
);

// The same contract with the index by position stored after every batch, and after every third
// entry: every read then walks stored runs, and runs beside the tail kept in memory.
for (const indexTailEntries of [1, 3]) {
  describeEventStoreContract(`SqliteEventStore, runs stored every ${indexTailEntries}`, (options) =>
    SqliteEventStore.open(nextPath(), {
      indexTailEntries,
      ...(options.retention === undefined ? {} : { retentionPerConversation: options.retention }),
    }),
  );
}

describe('SqliteEventStore', () => {
  const open = closedAfterEach((...args: Parameters<typeof SqliteEventStore.open>) =>
    SqliteEventStore.open(...args),
  );

  it('refuses a second store on the same file, naming it and this process, until the first closes', async () => {
    const path = nextPath();
    const first = open(path);

    expect(() => SqliteEventStore.open(path)).toThrow(
      new RegExp(
        `^The event log ${path} is in use by process ${process.pid} on .+ \\(its owner since .+\\): one process owns a SQLite log file at a time\\.`,
      ),
    );
    await first.close();
    open(path);
  });

  it('rebuilds a file removed while open from its open connection before the next write', async () => {
    const path = nextPath();
    const store = open(path);
    await store.append([frameEntry('a', 1, 1), frameEntry('a', 2, 2)]);
    rmSync(path);

    await store.append([frameEntry('a', 3, 3)]);
    await store.close();

    const reader = new Database(path, { readonly: true });
    const positions = reader
      .prepare<[], number>(`SELECT position FROM entries ORDER BY position`)
      .pluck()
      .all();
    reader.close();
    expect(positions).toEqual([1, 2, 3]);
  });

  it('keeps its entries across close and reopen', async () => {
    const path = nextPath();
    const first = open(path);
    await first.append([partEntry('a', 1), frameEntry('a', 2, 1), frameEntry('b', 1, 1)]);
    await first.close();

    const second = open(path);
    expect(await second.readEntries('a')).toEqual([partEntry('a', 1), frameEntry('a', 2, 1)]);
    expect(await second.lastPosition('b')).toEqual({ position: 1, seq: 1 });
    await second.append([frameEntry('a', 3, 2)]);
    expect((await second.readFrames('a')).map((entry) => entry.seq)).toEqual([1, 2]);
  });

  it('creates the parent directory and opens the file in WAL mode with schema version 3', async () => {
    const path = join(directory, 'nested', 'deeper', 'log.db');
    const store = open(path);
    await store.append([partEntry('a', 1)]);

    const inspector = new Database(path, { readonly: true });
    try {
      expect(inspector.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(
        inspector.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(),
      ).toBe('3');
      // Entries have no index of their own: `runs` is the index by position, and holds nothing
      // until the tail is stored in bulk (sqlite-runs.test.ts).
      expect(
        inspector
          .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries'`)
          .pluck()
          .all(),
      ).toEqual([]);
      expect(inspector.prepare(`SELECT count(*) FROM runs`).pluck().get()).toBe(0);
      expect(
        inspector.prepare(`SELECT kind, frame_type, seq, to_connection FROM entries`).all(),
      ).toEqual([{ kind: 'model.part', frame_type: null, seq: null, to_connection: null }]);
    } finally {
      inspector.close();
    }
  });

  it('refuses a file with another schema version', async () => {
    const path = nextPath();
    await open(path).close();
    const editor = new Database(path);
    editor.prepare(`UPDATE meta SET value = '4' WHERE key = 'schema_version'`).run();
    editor.close();

    expect(() => open(path)).toThrow(
      new ParleyError(
        'log_unavailable',
        `The event log at ${path} has schema version 4; this Parley reads version 3.`,
      ),
    );
  });

  it('upgrades a version 1 file in place: its index by seq goes, its entries stay readable by seq', async () => {
    const path = nextPath();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`
      ${VERSION_2_TABLES}
      CREATE INDEX entries_frames ON entries (conversation_id, seq, position) WHERE kind = 'frame';
      INSERT INTO meta (key, value) VALUES ('schema_version', '1');
    `);
    // Version 1 had version 2's columns.
    writeVersion2Rows(old, [frameEntry('a', 1, 1), partEntry('a', 2), frameEntry('a', 3, 2)]);
    old.close();

    const store = open(path);
    await store.append([frameEntry('a', 4, 3)]);

    expect((await store.readFrames('a', { after: 1 })).map((entry) => entry.seq)).toEqual([2, 3]);
    expect(await store.lastPosition('a')).toEqual({ position: 4, seq: 3 });
    const inspector = new Database(path, { readonly: true });
    try {
      expect(
        inspector.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(),
      ).toBe('3');
      expect(
        inspector.prepare(`SELECT name FROM sqlite_master WHERE name = 'entries_frames'`).get(),
      ).toBeUndefined();
    } finally {
      inspector.close();
    }
  });

  it('refuses a database that is not a Parley event log', () => {
    const path = nextPath();
    const other = new Database(path);
    other.exec('CREATE TABLE notes (text TEXT)');
    other.close();

    expect(() => open(path)).toThrow(`${path} is not a Parley event log`);
  });

  it('refuses a file that is not a database with log_unavailable', () => {
    const path = nextPath();
    writeFileSync(path, 'not a database, just some text that is long enough to have a header');

    let thrown: unknown;
    try {
      open(path);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ParleyError);
    expect(thrown).toMatchObject({ code: 'log_unavailable' });
    expect((thrown as Error).message).toMatch(
      /^Cannot open the event log at .*: file is not a database$/,
    );
  });
});
