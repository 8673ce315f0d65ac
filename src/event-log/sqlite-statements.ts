/**
 * The prepared statements of the SQLite event log, apart from the store so that a store can
 * prepare them again on a new connection (after it restored a removed file).
 */
import type Database from 'better-sqlite3';
import type { ConversationSummary } from './event-store.js';
import { entryJson } from './entry-json.js';
import type { LogEntry } from './log-entry.js';

type Row = [string, number, number | null, string, string | null, string | null, number, string];

/**
 * Prepares the store's statements on `db`, and the batch transaction: one row per entry, then the
 * retention trim of each conversation in the batch.
 *
 * @example
 * const { statements, appendBatch } = prepareStatements(db, 50_000);
 */
export function prepareStatements(
  db: Database.Database,
  retention: number | undefined,
): PreparedStatements {
  const statements = {
    insert: db.prepare<Row>(
      `INSERT INTO entries (conversation_id, position, seq, kind, frame_type, to_connection, at, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    readEntries: db
      .prepare<[string, number, number], string>(
        `SELECT body FROM entries WHERE conversation_id = ? AND position > ? ORDER BY position LIMIT ?`,
      )
      .pluck(),
    // A conversation's frames have non-decreasing seqs in position order, so every "by seq"
    // question is asked in position order, through the primary key (schema version 2).
    lastPosition: db.prepare<[string, string], { position: number | null; seq: number | null }>(
      `SELECT (SELECT max(position) FROM entries WHERE conversation_id = ?) AS position,
              (SELECT seq FROM entries WHERE conversation_id = ? AND kind = 'frame'
               ORDER BY position DESC LIMIT 1) AS seq`,
    ),
    firstRetainedSeq: db
      .prepare<[string], number>(
        `SELECT seq FROM entries
         WHERE conversation_id = ? AND kind = 'frame' AND to_connection IS NULL
         ORDER BY position LIMIT 1`,
      )
      .pluck(),
    /** The first frame at or after a position: one probe of the seq-to-position search. */
    firstFrameFrom: db.prepare<[string, number], { position: number; seq: number }>(
      `SELECT position, seq FROM entries
       WHERE conversation_id = ? AND position >= ? AND kind = 'frame'
       ORDER BY position LIMIT 1`,
    ),
    maxPosition: db
      .prepare<[string], number | null>(
        `SELECT max(position) FROM entries WHERE conversation_id = ?`,
      )
      .pluck(),
    listConversations: db.prepare<[number], ConversationSummary>(
      `SELECT conversation_id, count(*) AS entries, coalesce(max(seq), 0) AS last_seq,
              min(at) AS first_at, max(at) AS last_at
       FROM entries GROUP BY conversation_id
       ORDER BY last_at DESC, conversation_id LIMIT ?`,
    ),
    idleConversations: db
      .prepare<[number, number], string>(
        `SELECT conversation_id FROM entries GROUP BY conversation_id HAVING max(at) < ?
         ORDER BY max(at) LIMIT ?`,
      )
      .pluck(),
    deleteConversation: db.prepare<[string]>(`DELETE FROM entries WHERE conversation_id = ?`),
    pageCount: db.prepare<[], number>(`PRAGMA page_count`).pluck(),
    pageSize: db.prepare<[], number>(`PRAGMA page_size`).pluck(),
    trim: db.prepare<{ conversation: string; retention: number }>(
      `DELETE FROM entries
       WHERE conversation_id = @conversation
         AND position <= (SELECT max(position) FROM entries WHERE conversation_id = @conversation) - @retention
         AND position IS NOT (
           SELECT position FROM entries WHERE conversation_id = @conversation AND kind = 'frame'
           ORDER BY position DESC LIMIT 1)`,
    ),
  };
  const { insert, trim } = statements;
  const appendBatch = db.transaction((entries: readonly LogEntry[]) => {
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
    if (retention === undefined) return;
    // The trim deletes positions up to the newest minus `retention`: nothing while a
    // conversation's newest position is within it (positions start at 1), so it runs only for
    // conversations past it, not once per conversation per batch (a DELETE with two subqueries,
    // ~3 µs, on every token's commit).
    let past: Set<string> | undefined;
    for (const entry of entries) {
      if (entry.position > retention) (past ??= new Set()).add(entry.conversation_id);
    }
    if (past === undefined) return;
    for (const conversation of past) trim.run({ conversation, retention });
  });
  return { statements, appendBatch };
}

/** What {@link prepareStatements} returns. */
export interface PreparedStatements {
  statements: {
    insert: Database.Statement<Row>;
    readEntries: Database.Statement<[string, number, number], string>;
    lastPosition: Database.Statement<
      [string, string],
      { position: number | null; seq: number | null }
    >;
    firstRetainedSeq: Database.Statement<[string], number>;
    firstFrameFrom: Database.Statement<[string, number], { position: number; seq: number }>;
    maxPosition: Database.Statement<[string], number | null>;
    listConversations: Database.Statement<[number], ConversationSummary>;
    idleConversations: Database.Statement<[number, number], string>;
    deleteConversation: Database.Statement<[string]>;
    pageCount: Database.Statement<[], number>;
    pageSize: Database.Statement<[], number>;
    trim: Database.Statement<[{ conversation: string; retention: number }]>;
  };
  appendBatch: (entries: readonly LogEntry[]) => void;
}
