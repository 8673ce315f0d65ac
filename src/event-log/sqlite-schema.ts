/**
 * The tables of the SQLite event log and their version check, apart from the store that writes
 * them.
 */
import type Database from 'better-sqlite3';
import { ParleyError } from '../errors.js';

/**
 * The version of the file's tables; a file with another version is refused, except versions 1 and
 * 2, which are upgraded in place.
 *
 * - 1: `entries` with a partial index of frames by (conversation, seq).
 * - 2: the same table without that index. Within a conversation a frame's seq never decreases as
 *   its position grows, so the primary key answers every seq range (the store turns seq bounds
 *   into position bounds). The index was a third b-tree written per entry, on its own page per
 *   conversation: dropping it halves the cost of an insert (bench/log-commit-cost.ts).
 * - 3: `entries` is kept in the order it was written (`id`), with no index of its own; the index
 *   by (conversation, position) is `runs`: one row per run of a conversation's entries, with
 *   their (position, id) pairs packed in a blob ({@link packRun}). The entries written since the
 *   last run was stored, the tail (ids after `log_index.indexed_through`), are indexed by the
 *   store in memory, and stored as runs in bulk once {@link INDEX_TAIL_ENTRIES} of them wait.
 *   Version 2 wrote its primary key with every entry, on a leaf page of each conversation's own:
 *   at 100 streaming conversations, a commit wrote about one index page per token, most of what
 *   the SQLite log cost per token (docs/PERFORMANCE.md). Here a bulk writes one small row per
 *   conversation.
 */
export const SQLITE_SCHEMA_VERSION = 3;

/** Entries the tail may hold before the commit that reaches it stores them as runs. */
export const INDEX_TAIL_ENTRIES = 4096;

/** The most pairs one stored run holds (a longer one is stored as several). */
export const RUN_PAIRS = 1024;

const SCHEMA = `
  CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    seq INTEGER NULL,
    kind TEXT NOT NULL,
    frame_type TEXT NULL,
    to_connection TEXT NULL,
    at INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE TABLE runs (
    conversation_id TEXT NOT NULL,
    first_position INTEGER NOT NULL,
    last_position INTEGER NOT NULL,
    pairs BLOB NOT NULL,
    PRIMARY KEY (conversation_id, first_position)
  ) WITHOUT ROWID;
  CREATE TABLE log_index (indexed_through INTEGER NOT NULL);
  INSERT INTO log_index (indexed_through) VALUES (0);
`;

/** A run's (position, id) pairs, ascending by position, as its blob: little-endian doubles. */
export function packRun(positions: readonly number[], ids: readonly number[]): Buffer {
  const buffer = Buffer.allocUnsafe(positions.length * 16);
  for (let index = 0; index < positions.length; index += 1) {
    buffer.writeDoubleLE(positions[index] as number, index * 16);
    buffer.writeDoubleLE(ids[index] as number, index * 16 + 8);
  }
  return buffer;
}

/** The pairs of a run's blob, back as positions and ids. */
export function unpackRun(pairs: Buffer): { positions: number[]; ids: number[] } {
  const count = pairs.length / 16;
  const positions = new Array<number>(count);
  const ids = new Array<number>(count);
  for (let index = 0; index < count; index += 1) {
    positions[index] = pairs.readDoubleLE(index * 16);
    ids[index] = pairs.readDoubleLE(index * 16 + 8);
  }
  return { positions, ids };
}

/**
 * Version 2's table becomes version 3's, in one transaction: its rows are copied in the order
 * they were written (their rowid becomes their id), then its primary key is read in order, a page
 * at a time, into runs, before the old table goes.
 */
function fromVersion2(db: Database.Database): void {
  db.exec(`ALTER TABLE entries RENAME TO entries_v2`);
  db.exec(SCHEMA);
  db.exec(`
    INSERT INTO entries (id, conversation_id, position, seq, kind, frame_type, to_connection, at, body)
      SELECT rowid, conversation_id, position, seq, kind, frame_type, to_connection, at, body
      FROM entries_v2 ORDER BY rowid
  `);
  // Keyset pages along version 2's primary key: no sort, however large the file.
  const page = db.prepare<[string, number], { c: string; p: number; id: number }>(
    `SELECT conversation_id AS c, position AS p, rowid AS id FROM entries_v2
     WHERE (conversation_id, position) > (?, ?)
     ORDER BY conversation_id, position LIMIT 65536`,
  );
  const insertRun = db.prepare<[string, number, number, Buffer]>(
    `INSERT INTO runs (conversation_id, first_position, last_position, pairs) VALUES (?, ?, ?, ?)`,
  );
  let run: { conversation: string; positions: number[]; ids: number[] } | undefined;
  const store = () => {
    if (run === undefined || run.positions.length === 0) return;
    const { conversation, positions, ids } = run;
    insertRun.run(
      conversation,
      positions[0] as number,
      positions.at(-1) as number,
      packRun(positions, ids),
    );
    run = { conversation, positions: [], ids: [] };
  };
  let after = { c: '', p: 0 };
  for (;;) {
    const rows = page.all(after.c, after.p);
    for (const row of rows) {
      if (run?.conversation !== row.c) {
        store();
        run = { conversation: row.c, positions: [], ids: [] };
      }
      run.positions.push(row.p);
      run.ids.push(row.id);
      if (run.positions.length === RUN_PAIRS) store();
    }
    const last = rows.at(-1);
    if (last === undefined) break;
    after = last;
  }
  store();
  db.exec(`DROP TABLE entries_v2`);
  db.exec(`UPDATE log_index SET indexed_through = (SELECT coalesce(max(id), 0) FROM entries)`);
}

/** Creates the tables of a new file, or checks the schema version of an existing one. */
export function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const tables = db
      .prepare<[], string>(`SELECT name FROM sqlite_master WHERE type = 'table'`)
      .pluck()
      .all();
    if (!tables.includes('meta')) {
      if (tables.length > 0) {
        throw new ParleyError(
          'log_unavailable',
          `${path} is not a Parley event log: it has tables but no schema version.`,
        );
      }
      db.exec(SCHEMA);
      db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`).run(
        String(SQLITE_SCHEMA_VERSION),
      );
      return;
    }
    const version = db
      .prepare<[], string>(`SELECT value FROM meta WHERE key = 'schema_version'`)
      .pluck()
      .get();
    if (version === '1' || version === '2') {
      // Version 1 differs from 2 only by the frames index; 2 to 3 moves the rows once.
      db.exec(`DROP INDEX IF EXISTS entries_frames`);
      fromVersion2(db);
      db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(
        String(SQLITE_SCHEMA_VERSION),
      );
      return;
    }
    if (version !== String(SQLITE_SCHEMA_VERSION)) {
      throw new ParleyError(
        'log_unavailable',
        `The event log at ${path} has schema version ${version ?? '(none)'}; this Parley reads version ${SQLITE_SCHEMA_VERSION}.`,
      );
    }
  }).immediate();
}
