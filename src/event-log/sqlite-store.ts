/**
 * The embedded {@link EventStore}: one local SQLite file (WAL, `synchronous = NORMAL`), one row per
 * entry. better-sqlite3 is synchronous, so every method does its work at once and the promise only
 * carries the result or the error; a batch is one transaction. WAL checkpoints run in a worker
 * thread by default (sqlite-checkpointer.ts), so that their fsyncs do not stall the event loop.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ParleyError } from '../errors.js';
import type { ConversationSummary, EventStore, FrameRange } from './event-store.js';
import type { FrameEntry, LogEntry } from './log-entry.js';
import {
  startBackgroundCheckpoints,
  type BackgroundCheckpointer,
  type CheckpointResult,
  type CheckpointStats,
} from './sqlite-checkpointer.js';
import { migrate } from './sqlite-schema.js';

export { SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';
export type { CheckpointResult, CheckpointStats } from './sqlite-checkpointer.js';

/** Commits between two requests for a background checkpoint. */
const CHECKPOINT_EVERY_COMMITS = 100;

/** Options for {@link SqliteEventStore.open}. */
export interface SqliteEventStoreOptions {
  /**
   * Entries kept per conversation; each append trims older ones. The newest frame is always kept
   * (so at most one entry more), so that `lastPosition` still knows the seq to continue from.
   * Unlimited when absent.
   */
  retentionPerConversation?: number;
  /**
   * WAL pages written before a checkpoint copies them into the database file: SQLite's own
   * threshold with `checkpoints: 'inline'`, and the most the WAL may hold after a background
   * checkpoint before the writer's thread checkpoints itself. @default 4000
   */
  walAutocheckpointPages?: number;
  /**
   * Where WAL checkpoints run. `background`: a worker thread with its own connection, started at
   * the first checkpoint, so that their fsyncs (10-15 ms each here) never stall the event loop.
   * `inline`: SQLite's own, in the commit that crosses `walAutocheckpointPages`. A file opened
   * in memory always checkpoints inline (it has no WAL). @default 'background'
   */
  checkpoints?: 'background' | 'inline';
  /** Told when the checkpoint worker fails; the store then checkpoints inline. */
  onCheckpointFailure?: (error: Error) => void;
  /** Told about every checkpoint the store asked for (not SQLite's own inline ones). */
  onCheckpoint?: (result: CheckpointResult, where: 'background' | 'inline') => void;
}

type Row = [string, number, number | null, string, string | null, string | null, number, string];

const DEFAULT_WAL_PAGES = 4000;

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
  readonly #checkpointer: BackgroundCheckpointer | undefined;

  private constructor(db: Database.Database, path: string, options: SqliteEventStoreOptions) {
    this.#db = db;
    const walPages = options.walAutocheckpointPages ?? DEFAULT_WAL_PAGES;
    // `memory`: in memory or a temporary file, neither of which has a WAL to checkpoint.
    this.#checkpointer =
      options.checkpoints === 'inline' || db.memory
        ? undefined
        : startBackgroundCheckpoints(db, resolve(path), {
            everyCommits: CHECKPOINT_EVERY_COMMITS,
            walAutocheckpointPages: walPages,
            onFailure: options.onCheckpointFailure,
            onCheckpoint: options.onCheckpoint,
          });
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
      deleteConversation: db.prepare<[string]>(`DELETE FROM entries WHERE conversation_id = ?`),
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
    const { retentionPerConversation: retention, walAutocheckpointPages = DEFAULT_WAL_PAGES } =
      options;
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
      // stays bounded on disk. Background checkpoints turn SQLite's own off again (constructor).
      db.pragma(`wal_autocheckpoint = ${walAutocheckpointPages}`);
      db.pragma('journal_size_limit = 67108864');
      migrate(db, path);
      return new SqliteEventStore(db, path, options);
    } catch (error) {
      db.close();
      throw unavailable(`Cannot open the event log at ${path}`, error);
    }
  }

  append(entries: readonly LogEntry[]): Promise<void> {
    return this.#settle('write', () => {
      this.#appendBatch(entries);
      this.#checkpointer?.committed();
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

  deleteConversation(conversationId: string): Promise<number> {
    return this.#settle(
      'write',
      () => this.#statements.deleteConversation.run(conversationId).changes,
    );
  }

  /** Where WAL checkpoints run and how many the store asked for; `undefined` when inline. */
  get checkpointStats(): Readonly<CheckpointStats> | undefined {
    return this.#checkpointer?.stats;
  }

  async close(): Promise<void> {
    // The checkpoint worker's connection closes first, so that this one is the last: SQLite
    // checkpoints and removes the WAL as the last connection closes.
    await this.#checkpointer?.close();
    if (this.#db.open) this.#db.close();
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

function unavailable(context: string, error: unknown): ParleyError {
  if (error instanceof ParleyError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ParleyError('log_unavailable', `${context}: ${reason}`, { cause: error });
}
