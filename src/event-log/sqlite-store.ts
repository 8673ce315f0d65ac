/**
 * The embedded {@link EventStore}: one local SQLite file (WAL, `synchronous = NORMAL`), one row per
 * entry. better-sqlite3 is synchronous, so every method does its work at once and the promise only
 * carries the result or the error; a batch is one transaction. WAL checkpoints run in a worker
 * thread by default (sqlite-checkpointer.ts), so that their fsyncs do not stall the event loop.
 * One process owns the file (sqlite-lock.ts). A file removed while open (or its directory) is
 * noticed before each write and rebuilt from the open connection, which still holds every entry.
 *
 * Over 300 lines because the file's life (open, lock, restore after removal) belongs with the
 * store that depends on it; the statements live in sqlite-statements.ts.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ParleyError } from '../errors.js';
import type { ConversationSummary, EventStore, FrameRange } from './event-store.js';
import type { FrameEntry, LogEntry } from './log-entry.js';
import { currentOwner, lockLogFile, type LogFileLock, type LogOwner } from './sqlite-lock.js';
import { frameShape, prepareStatements, type PreparedStatements } from './sqlite-statements.js';
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
  /**
   * Takes the file's lock, so that a second process (or store) on the same file is refused with
   * the holder's pid. Off only for readers such as `parley export`. @default true
   */
  lock?: boolean;
  /**
   * SQLite's `max_page_count`: the most pages the file may hold; a batch beyond it fails with
   * SQLITE_FULL (and is held by the event log until room is made). Unlimited when absent.
   */
  maxPageCount?: number;
  /**
   * Entries written before the index by conversation is brought up to date, in bulk, by the commit
   * that reaches this many (schema version 3, docs/EVENT_LOG.md). Lower: shorter bulk commits,
   * more index pages written per entry. @default 4096
   */
  indexTailEntries?: number;
}

const DEFAULT_WAL_PAGES = 4000;

/**
 * Stores log entries in a SQLite file.
 *
 * @example
 * const store = SqliteEventStore.open('data/parley.db', { retentionPerConversation: 50_000 });
 * const log = createEventLog({ store });
 */
export class SqliteEventStore implements EventStore {
  readonly #path: string;
  readonly #options: SqliteEventStoreOptions;
  #db: Database.Database;
  #prepared: PreparedStatements;
  #checkpointer: BackgroundCheckpointer | undefined;
  #lock: LogFileLock | undefined;
  /** The open file's device and inode; undefined in memory. */
  #identity: { dev: number; ino: number } | undefined;
  #closed = false;

  private constructor(
    db: Database.Database,
    path: string,
    options: SqliteEventStoreOptions,
    lock: LogFileLock | undefined,
  ) {
    this.#path = path;
    this.#options = options;
    this.#lock = lock;
    this.#db = db;
    this.#prepared = prepareStatements(
      db,
      options.retentionPerConversation,
      options.indexTailEntries,
    );
    this.#identity = db.memory ? undefined : fileIdentity(path);
    this.#checkpointer = this.#startCheckpointer(db);
  }

  /**
   * Opens (or creates, with its parent directory) the log file at `path` and takes its lock.
   * Throws a `log_unavailable` {@link ParleyError} when the file cannot be opened, is not a Parley
   * log, has another schema version, or is owned by another process (the message names it).
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
    const { maxPageCount } = options;
    if (maxPageCount !== undefined && (!Number.isInteger(maxPageCount) || maxPageCount < 1)) {
      throw new RangeError(`maxPageCount must be a positive integer, got ${maxPageCount}.`);
    }
    const { indexTailEntries } = options;
    if (
      indexTailEntries !== undefined &&
      (!Number.isInteger(indexTailEntries) || indexTailEntries < 1)
    ) {
      throw new RangeError(`indexTailEntries must be a positive integer, got ${indexTailEntries}.`);
    }
    const inMemory = path === ':memory:' || path === '';
    if (!inMemory) {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (error) {
        throw unavailable(`Cannot open the event log at ${path}`, error);
      }
    }
    const db = openDatabase(path, options);
    let lock: LogFileLock | undefined;
    try {
      if (!inMemory && options.lock !== false) {
        lock = lockLogFile(resolve(path), () => readOwner(db));
        writeOwner(db);
      }
      return new SqliteEventStore(db, path, options, lock);
    } catch (error) {
      lock?.release();
      db.close();
      throw unavailable(`Cannot open the event log at ${path}`, error);
    }
  }

  append(entries: readonly LogEntry[]): Promise<void> {
    // Past the WAL's bound, the commit waits for the worker's catch-up checkpoint (never an
    // fsync on this thread); the event log gathers what comes meanwhile into its next batch.
    const catchUp = this.#checkpointer?.beforeCommit();
    return catchUp === undefined
      ? this.#appendNow(entries)
      : catchUp.then(() => this.#appendNow(entries));
  }

  #appendNow(entries: readonly LogEntry[]): Promise<void> {
    // A stat per batch (~2 µs): SQLite would go on writing to a removed file's open inode, and
    // all of it would be gone at the next start (issue 14: 22 of 22 events lost that way).
    if (this.#identity !== undefined && !this.#closed && this.#moved()) {
      return this.#restoreThenAppend(entries);
    }
    return this.#settle('write', () => {
      this.#prepared.appendBatch(entries);
      this.#checkpointer?.committed();
    });
  }

  /** Conversations whose newest entry is older than `before` (epoch ms), oldest first. */
  idleConversations(before: number, limit = 1000): Promise<string[]> {
    return this.#settle('read', () => this.#prepared.idleConversations(before, Math.max(0, limit)));
  }

  /** Removes every entry of a conversation; resolves with how many there were. */
  deleteConversation(conversationId: string): Promise<number> {
    return this.#settle('write', () => this.#prepared.deleteConversation(conversationId));
  }

  /** The file's size in bytes: its pages (those still in the WAL included). */
  sizeBytes(): Promise<number> {
    return this.#settle('read', () => this.#prepared.sizeBytes());
  }

  readEntries(
    conversationId: string,
    options: { afterPosition?: number; limit?: number } = {},
  ): Promise<LogEntry[]> {
    return this.#settle('read', () =>
      this.#prepared
        .readEntries(
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
      return this.#prepared.together(() => this.#readFrames(conversationId, range, limit, newest));
    });
  }

  /** One frame read, inside a read of its own (the seq search and the frames see one state). */
  #readFrames(
    conversationId: string,
    range: FrameRange,
    limit: number,
    newest: boolean,
  ): FrameEntry[] {
    const bounds = { from: -Infinity, below: Infinity };
    const { after, before } = range;
    if (after !== undefined || before !== undefined) {
      // Past the newest position: where a search that finds nothing ends (read once).
      const end = this.#prepared.maxPosition(conversationId) + 1;
      if (after !== undefined) {
        bounds.from = this.#firstPosition(conversationId, end, (seq) => seq > after);
      }
      if (before !== undefined) {
        bounds.below = this.#firstPosition(conversationId, end, (seq) => seq >= before);
      }
    }
    const types = range.types === undefined ? undefined : JSON.stringify(range.types);
    const bodies = this.#prepared.frames(
      conversationId,
      frameShape(range, newest),
      bounds,
      types,
      limit,
    );
    if (newest) bodies.reverse();
    return bodies.map((body) => JSON.parse(body) as FrameEntry);
  }

  lastPosition(conversationId: string): Promise<{ position: number; seq: number } | undefined> {
    return this.#settle('read', () => this.#prepared.lastPosition(conversationId));
  }

  firstRetainedSeq(conversationId: string): Promise<number | undefined> {
    return this.#settle('read', () => this.#prepared.firstRetainedSeq(conversationId));
  }

  listConversations(options: { limit?: number } = {}): Promise<ConversationSummary[]> {
    return this.#settle('read', () =>
      this.#prepared.listConversations(Math.max(0, options.limit ?? 100)),
    );
  }

  /** Where WAL checkpoints run and how many the store asked for; `undefined` when inline. */
  get checkpointStats(): Readonly<CheckpointStats> | undefined {
    return this.#checkpointer?.stats;
  }

  async close(): Promise<void> {
    // The checkpoint worker's connection closes first, so that this one is the last: SQLite
    // checkpoints and removes the WAL as the last connection closes.
    this.#closed = true;
    await this.#checkpointer?.close();
    if (this.#db.open) this.#db.close();
    this.#lock?.release();
  }

  #startCheckpointer(db: Database.Database): BackgroundCheckpointer | undefined {
    const options = this.#options;
    // `memory`: in memory or a temporary file, neither of which has a WAL to checkpoint.
    if (options.checkpoints === 'inline' || db.memory) return undefined;
    return startBackgroundCheckpoints(db, resolve(this.#path), {
      everyCommits: CHECKPOINT_EVERY_COMMITS,
      walAutocheckpointPages: options.walAutocheckpointPages ?? DEFAULT_WAL_PAGES,
      onFailure: options.onCheckpointFailure,
      onCheckpoint: options.onCheckpoint,
    });
  }

  /** Whether the file at the path is no longer the one this store has open. */
  #moved(): boolean {
    let stats;
    try {
      stats = statSync(this.#path, { throwIfNoEntry: false });
    } catch {
      // ENOTDIR: a file stands where the directory was.
      return true;
    }
    return (
      stats === undefined ||
      stats.ino !== this.#identity?.ino ||
      stats.dev !== this.#identity.dev ||
      !this.#db.open
    );
  }

  /**
   * The file (or its directory) was removed while open: writes it again from this connection,
   * which still reads every entry from the removed inode, then appends. Until that works (the
   * directory cannot be made, the disk is full), rejects with `log_unavailable` and the event log
   * holds the batch and retries. A different file in its place is left alone.
   */
  async #restoreThenAppend(entries: readonly LogEntry[]): Promise<void> {
    const path = this.#path;
    try {
      if (this.#db.open) {
        if (statSync(path, { throwIfNoEntry: false }) !== undefined) {
          throw new Error(
            'it was replaced by another file while open; that file is left alone (move it away, and this server writes its log there again)',
          );
        }
        await this.#checkpointer?.close();
        this.#checkpointer = undefined;
        mkdirSync(dirname(path), { recursive: true });
        // The lock file went with the directory, or is still in place and ours.
        const lock =
          this.#lock === undefined || this.#lock.inPlace()
            ? this.#lock
            : lockLogFile(resolve(path), () => undefined);
        const temporary = `${path}.restoring`;
        try {
          rmSync(temporary, { force: true });
          // Folds the WAL into the (removed) main file, then copies it out as one new file.
          this.#db.pragma('wal_checkpoint(TRUNCATE)');
          this.#db.prepare('VACUUM INTO ?').run(temporary);
          syncFile(temporary);
          renameSync(temporary, path);
          syncFile(dirname(path));
        } catch (error) {
          if (lock !== this.#lock) lock?.release();
          rmSync(temporary, { force: true });
          throw error;
        }
        this.#db.close();
        if (lock !== this.#lock) this.#lock?.release();
        this.#lock = lock;
      }
      // The entries are safe in the file at the path: a failure from here on reopens it at the
      // next attempt (the old connection is closed).
      const db = openDatabase(path, this.#options);
      writeOwner(db);
      this.#db = db;
      this.#prepared = prepareStatements(
        db,
        this.#options.retentionPerConversation,
        this.#options.indexTailEntries,
      );
      this.#identity = fileIdentity(path);
      this.#checkpointer = this.#startCheckpointer(db);
    } catch (error) {
      throw unavailable(
        `The event log file ${path} was removed while open and cannot be restored yet`,
        error,
      );
    }
    return this.append(entries);
  }

  /**
   * The lowest position below `end` (one past the newest) from which every frame of the
   * conversation has a seq that `reached` accepts (`reached` must hold from some seq on: seqs
   * never decrease along positions). A binary search over positions, one primary-key probe per
   * step (about 20 for a million entries, each an index probe and, past it, a tail scan):
   * `position >= it` is then the same range as the seq condition, without an index by seq.
   */
  #firstPosition(conversationId: string, end: number, reached: (seq: number) => boolean): number {
    const prepared = this.#prepared;
    let low = 1;
    let high = end;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const frame = prepared.firstFrameFrom(conversationId, middle);
      if (frame === undefined || reached(frame.seq)) high = middle;
      // Every frame up to this one has a seq `reached` refuses, too.
      else low = frame.position + 1;
    }
    return low;
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

/** Opens the file with the store's pragmas and checks (or creates) its tables. */
function openDatabase(path: string, options: SqliteEventStoreOptions): Database.Database {
  let db: Database.Database;
  try {
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
    db.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages ?? DEFAULT_WAL_PAGES}`);
    db.pragma('journal_size_limit = 67108864');
    if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${options.maxPageCount}`);
    migrate(db, path);
    return db;
  } catch (error) {
    db.close();
    throw unavailable(`Cannot open the event log at ${path}`, error);
  }
}

function fileIdentity(path: string): { dev: number; ino: number } | undefined {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats === undefined ? undefined : { dev: stats.dev, ino: stats.ino };
}

function syncFile(path: string): void {
  const descriptor = openSync(path, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

function writeOwner(db: Database.Database): void {
  db.prepare(
    `INSERT INTO meta (key, value) VALUES ('owner', ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  ).run(JSON.stringify(currentOwner()));
}

function readOwner(db: Database.Database): LogOwner | undefined {
  const value = db.prepare<[], string>(`SELECT value FROM meta WHERE key = 'owner'`).pluck().get();
  return value === undefined ? undefined : (JSON.parse(value) as LogOwner);
}

function unavailable(context: string, error: unknown): ParleyError {
  if (error instanceof ParleyError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ParleyError('log_unavailable', `${context}: ${reason}`, { cause: error });
}
