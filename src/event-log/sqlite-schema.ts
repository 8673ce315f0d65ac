/**
 * The tables of the SQLite event log and their version check, apart from the store that writes
 * them.
 */
import type Database from 'better-sqlite3';
import { ParleyError } from '../errors.js';

/**
 * The version of the file's tables; a file with another version is refused, except version 1,
 * which is upgraded in place.
 *
 * - 1: `entries` with a partial index of frames by (conversation, seq).
 * - 2: the same table without that index. Within a conversation a frame's seq never decreases as
 *   its position grows, so the primary key answers every seq range (the store turns seq bounds
 *   into position bounds). The index was a third b-tree written per entry, on its own page per
 *   conversation: dropping it halves the cost of an insert (bench/log-commit-cost.ts).
 */
export const SQLITE_SCHEMA_VERSION = 2;

const SCHEMA = `
  CREATE TABLE entries (
    conversation_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    seq INTEGER NULL,
    kind TEXT NOT NULL,
    frame_type TEXT NULL,
    to_connection TEXT NULL,
    at INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position)
  );
`;

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
    if (version === '1') {
      // Version 1 differs only by the frames index: dropping it is the whole upgrade.
      db.exec(`DROP INDEX IF EXISTS entries_frames`);
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
