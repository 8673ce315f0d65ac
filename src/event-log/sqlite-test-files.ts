/**
 * Log files of earlier schema versions, written row by row as those versions' stores wrote them,
 * for the upgrade tests.
 */
import type Database from 'better-sqlite3';
import { entryJson } from './entry-json.js';
import type { LogEntry } from './log-entry.js';

/** Version 2's table (version 1's too, which only added an index by seq). */
export const VERSION_2_TABLES = `
  CREATE TABLE entries (
    conversation_id TEXT NOT NULL, position INTEGER NOT NULL, seq INTEGER NULL,
    kind TEXT NOT NULL, frame_type TEXT NULL, to_connection TEXT NULL, at INTEGER NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (conversation_id, position)
  );
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** Writes entries into a version 1 or 2 `entries` table, one row each, in the order given. */
export function writeVersion2Rows(db: Database.Database, entries: readonly LogEntry[]): void {
  const insert = db.prepare(
    `INSERT INTO entries (conversation_id, position, seq, kind, frame_type, to_connection, at, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const entry of entries) {
    const frame = entry.kind === 'frame';
    insert.run(
      entry.conversation_id,
      entry.position,
      frame ? entry.seq : null,
      entry.kind,
      frame ? entry.frame.type : null,
      frame ? (entry.to ?? null) : null,
      entry.at,
      entryJson(entry),
    );
  }
}
