/**
 * The embedded {@link EventStore}: one local SQLite file (WAL, `synchronous = NORMAL`), one row per
 * entry. better-sqlite3 is synchronous, so every method does its work at once and the promise only
 * carries the result or the error; a batch is one transaction.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ParleyError } from '../errors.js';
import type { ConversationSummary, EventStore, FrameRange } from './event-store.js';
import type { FrameEntry, LogEntry } from './log-entry.js';

/** The version of the file's tables; a file with another version is refused. */
export const SQLITE_SCHEMA_VERSION = 1;

/** Options for {@link SqliteEventStore.open}. */
export interface SqliteEventStoreOptions {
  /**
   * Entries kept per conversation; each append trims older ones. The newest frame is always kept
   * (so at most one entry more), so that `lastPosition` still knows the seq to continue from.
   * Unlimited when absent.
   */
  retentionPerConversation?: number;
  /** WAL pages written before SQLite checkpoints them into the database file. @default 4000 */
  walAutocheckpointPages?: number;
}

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
  CREATE INDEX entries_frames ON entries (conversation_id, seq, position) WHERE kind = 'frame';
`;

type Row = [string, number, number | null, string, string | null, string | null, number, string];

/**
 * Stores log entries in a SQLite file.
 *
 * @example
 * const store = SqliteEventStore.open('data/parley.db', { retentionPerConversation: 50_000 });
 * const log = createEventLog({ store });
 */
export class SqliteEventStore implements EventStore {
  readonly #db: Database.Database;
  readonly #appendBatch: (entries: readonly LogEntry[]) => void;
  readonly #frameQueries = new Map<string, Database.Statement<unknown[], string>>();
  readonly #statements;

  private constructor(db: Database.Database, options: SqliteEventStoreOptions) {
    this.#db = db;
    const retention = options.retentionPerConversation;
    this.#statements = {
      insert: db.prepare<Row>(
        `INSERT INTO entries (conversation_id, position, seq, kind, frame_type, to_connection, at, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      readEntries: db
        .prepare<[string, number, number], string>(
          `SELECT body FROM entries WHERE conversation_id = ? AND position > ? ORDER BY position LIMIT ?`,
        )
        .pluck(),
      lastPosition: db.prepare<[string, string], { position: number | null; seq: number | null }>(
        `SELECT (SELECT max(position) FROM entries WHERE conversation_id = ?) AS position,
                (SELECT seq FROM entries WHERE conversation_id = ? AND kind = 'frame'
                 ORDER BY seq DESC LIMIT 1) AS seq`,
      ),
      firstRetainedSeq: db
        .prepare<[string], number>(
          `SELECT seq FROM entries
           WHERE conversation_id = ? AND kind = 'frame' AND to_connection IS NULL
           ORDER BY seq LIMIT 1`,
        )
        .pluck(),
      listConversations: db.prepare<[number], ConversationSummary>(
        `SELECT conversation_id, count(*) AS entries, coalesce(max(seq), 0) AS last_seq,
                min(at) AS first_at, max(at) AS last_at
         FROM entries GROUP BY conversation_id
         ORDER BY last_at DESC, conversation_id LIMIT ?`,
      ),
      trim: db.prepare<{ conversation: string; retention: number }>(
        `DELETE FROM entries
         WHERE conversation_id = @conversation
           AND position <= (SELECT max(position) FROM entries WHERE conversation_id = @conversation) - @retention
           AND position IS NOT (
             SELECT position FROM entries WHERE conversation_id = @conversation AND kind = 'frame'
             ORDER BY seq DESC, position DESC LIMIT 1)`,
      ),
    };
    const { insert, trim } = this.#statements;
    this.#appendBatch = db.transaction((entries: readonly LogEntry[]) => {
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
          JSON.stringify(entry),
        );
      }
      if (retention !== undefined) {
        for (const conversation of new Set(entries.map((entry) => entry.conversation_id))) {
          trim.run({ conversation, retention });
        }
      }
    });
  }

  /**
   * Opens (or creates, with its parent directory) the log file at `path`. Throws a
   * `log_unavailable` {@link ParleyError} when the file cannot be opened, is not a Parley log, or
   * has another schema version.
   */
  static open(path: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    const { retentionPerConversation: retention, walAutocheckpointPages = 4000 } = options;
    if (retention !== undefined && (!Number.isInteger(retention) || retention < 1)) {
      throw new RangeError(
        `retentionPerConversation must be a positive integer, got ${retention}.`,
      );
    }
    if (!Number.isInteger(walAutocheckpointPages) || walAutocheckpointPages < 0) {
      throw new RangeError(
        `walAutocheckpointPages must be a non-negative integer, got ${walAutocheckpointPages}.`,
      );
    }
    let db: Database.Database;
    try {
      if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
    } catch (error) {
      throw unavailable(`Cannot open the event log at ${path}`, error);
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // Checkpointing every 4000 pages (16 MiB of WAL) instead of SQLite's 1000 writes each hot
      // index page back less often: 1.2-1.7x the append rate in bench/event-log-append.ts, with
      // no worse commit p99. The size limit truncates the WAL after a checkpoint, so the file
      // stays bounded on disk.
      db.pragma(`wal_autocheckpoint = ${walAutocheckpointPages}`);
      db.pragma('journal_size_limit = 67108864');
      migrate(db, path);
      return new SqliteEventStore(db, options);
    } catch (error) {
      db.close();
      throw unavailable(`Cannot open the event log at ${path}`, error);
    }
  }

  append(entries: readonly LogEntry[]): Promise<void> {
    return this.#settle('write', () => {
      this.#appendBatch(entries);
    });
  }

  readEntries(
    conversationId: string,
    options: { afterPosition?: number; limit?: number } = {},
  ): Promise<LogEntry[]> {
    return this.#settle('read', () =>
      this.#statements.readEntries
        .all(
          conversationId,
          options.afterPosition ?? 0,
          options.limit === undefined ? -1 : Math.max(0, options.limit),
        )
        .map((body) => JSON.parse(body) as LogEntry),
    );
  }

  readFrames(conversationId: string, range: FrameRange = {}): Promise<FrameEntry[]> {
    return this.#settle('read', () => {
      const limit = range.limit ?? 100;
      if (limit <= 0 || range.types?.length === 0) return [];
      const newest = range.before !== undefined && range.after === undefined;
      const parameters: unknown[] = [conversationId];
      if (range.after !== undefined) parameters.push(range.after);
      if (range.before !== undefined) parameters.push(range.before);
      if (range.types !== undefined) parameters.push(JSON.stringify(range.types));
      parameters.push(limit);
      const bodies = this.#frameQuery(range, newest).all(...parameters);
      if (newest) bodies.reverse();
      return bodies.map((body) => JSON.parse(body) as FrameEntry);
    });
  }

  lastPosition(conversationId: string): Promise<{ position: number; seq: number } | undefined> {
    return this.#settle('read', () => {
      const row = this.#statements.lastPosition.get(conversationId, conversationId);
      if (row?.position === null || row?.position === undefined) return undefined;
      return { position: row.position, seq: row.seq ?? 0 };
    });
  }

  firstRetainedSeq(conversationId: string): Promise<number | undefined> {
    return this.#settle('read', () => this.#statements.firstRetainedSeq.get(conversationId));
  }

  listConversations(options: { limit?: number } = {}): Promise<ConversationSummary[]> {
    return this.#settle('read', () =>
      this.#statements.listConversations.all(Math.max(0, options.limit ?? 100)),
    );
  }

  close(): Promise<void> {
    if (this.#db.open) this.#db.close();
    return Promise.resolve();
  }

  /** One prepared statement per shape of range (at most 32), made on first use. */
  #frameQuery(range: FrameRange, newest: boolean): Database.Statement<unknown[], string> {
    const eventsOnly = range.eventsOnly ?? true;
    const key = [
      range.after !== undefined,
      range.before !== undefined,
      eventsOnly,
      range.types !== undefined,
      newest,
    ].join();
    let statement = this.#frameQueries.get(key);
    if (statement === undefined) {
      // `kind = 'frame'` stays literal so that SQLite can use the partial index.
      const conditions = [`conversation_id = ?`, `kind = 'frame'`];
      if (range.after !== undefined) conditions.push('seq > ?');
      if (range.before !== undefined) conditions.push('seq < ?');
      if (eventsOnly) conditions.push('to_connection IS NULL');
      if (range.types !== undefined)
        conditions.push('frame_type IN (SELECT value FROM json_each(?))');
      const order = newest ? 'seq DESC, position DESC' : 'seq, position';
      statement = this.#db
        .prepare<unknown[], string>(
          `SELECT body FROM entries WHERE ${conditions.join(' AND ')} ORDER BY ${order} LIMIT ?`,
        )
        .pluck();
      this.#frameQueries.set(key, statement);
    }
    return statement;
  }

  /** Runs a read or write; a SQLite error becomes a `log_unavailable` rejection. */
  #settle<TResult>(operation: 'read' | 'write', work: () => TResult): Promise<TResult> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(unavailable(`Event log ${operation} failed`, error));
    }
  }
}

/** Creates the tables of a new file, or checks the schema version of an existing one. */
function migrate(db: Database.Database, path: string): void {
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
    if (version !== String(SQLITE_SCHEMA_VERSION)) {
      throw new ParleyError(
        'log_unavailable',
        `The event log at ${path} has schema version ${version ?? '(none)'}; this Parley reads version ${SQLITE_SCHEMA_VERSION}.`,
      );
    }
  }).immediate();
}

function unavailable(context: string, error: unknown): ParleyError {
  if (error instanceof ParleyError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ParleyError('log_unavailable', `${context}: ${reason}`, { cause: error });
}
