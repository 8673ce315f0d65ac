/**
 * The SQLite event log's tables as the store uses them (schema version 3, sqlite-schema.ts): the
 * batch transaction, the index by position (stored runs, and the tail kept in memory), and every
 * read as a walk along that index. Apart from the store so that a store can prepare them again on
 * a new connection (after it restored a removed file).
 *
 * Over 300 lines because the index and every read of it belong together: each read walks the
 * same runs, and the write keeps them.
 */
import type Database from 'better-sqlite3';
import type { ConversationSummary, FrameRange } from './event-store.js';
import { entryJson } from './entry-json.js';
import type { LogEntry } from './log-entry.js';
import { INDEX_TAIL_ENTRIES, packRun, RUN_PAIRS, unpackRun } from './sqlite-schema.js';

type Row = [
  number,
  string,
  number,
  number | null,
  string,
  string | null,
  string | null,
  number,
  string,
];

/** Entries of one conversation in position order: their positions (ascending) and ids. */
interface Run {
  positions: number[];
  ids: number[];
}

/** A stored run as read: where it starts, and its pairs. */
interface StoredRun {
  first_position: number;
  last_position: number;
  pairs: Buffer;
}

/** Which frames a frame read asks for, and in which direction (a statement per filter pair). */
interface FrameShape {
  eventsOnly: boolean;
  types: boolean;
  newest: boolean;
}

/**
 * The most stored runs read per statement while walking a conversation. A walk reads one run
 * first and doubles the page after, because most reads end in the first run (a blob of up to
 * 16 KiB each: reading 32 to use one made resumes twice as slow, bench/reconnect-storm.ts).
 */
const RUN_PAGE = 32;

/** The most entries a read fetches by id in one statement. */
const BODY_CHUNK = 256;

/**
 * Prepares the store's statements on `db` and reads the tail's state.
 *
 * @example
 * const tables = prepareStatements(db, 50_000);
 * tables.appendBatch(entries);
 */
export function prepareStatements(
  db: Database.Database,
  retention: number | undefined,
  indexTailEntries = INDEX_TAIL_ENTRIES,
): SqliteLogTables {
  return new SqliteLogTables(db, retention, indexTailEntries);
}

/** What {@link prepareStatements} returns. */
export type PreparedStatements = SqliteLogTables;

/**
 * The log's tables on one connection. Entries are written in id order with no index; the index by
 * position is a list of runs per conversation. The tail's runs (entries written since the last
 * bulk) are kept here; the commit that brings the tail to `indexTailEntries` stores them, one row
 * per conversation, so a conversation's index is written once per bulk instead of once per
 * commit. Reads walk a conversation's runs, stored then tail, and fetch entries by id.
 *
 * A position must follow its conversation's last (the primary key checked uniqueness in version
 * 2); the check reads the tail kept here, or the newest stored run.
 */
export class SqliteLogTables {
  readonly #db: Database.Database;
  readonly #retention: number | undefined;
  readonly #indexTailEntries: number;
  /** The next entry's id: never reused, so that a deleted newest entry cannot hide a new one. */
  #nextId: number;
  /** Each conversation with entries in the tail. */
  #tail = new Map<string, Run>();
  #tailEntries = 0;
  /** `log_index.indexed_through` as the tail kept here knows it, and the highest id it has seen. */
  #through = 0;
  #seenId = 0;
  /** Inside a read (its snapshot): the stored runs it has read, for its next probes. */
  #reading = false;
  #held: { conversationId: string; runs: StoredRun[] } | undefined;
  readonly #frameShapes = new Map<
    string,
    Database.Statement<unknown[], { id: number; body: string }>
  >();
  /** Entries by a chunk of ids. */
  readonly #bodies: Database.Statement<unknown[], { id: number; body: string }>;
  readonly #s;
  readonly #appendBatch: (entries: readonly LogEntry[], lastOf: Map<string, number>) => boolean;
  readonly #readTogether: (work: () => unknown) => unknown;

  constructor(db: Database.Database, retention: number | undefined, indexTailEntries: number) {
    this.#db = db;
    this.#retention = retention;
    this.#indexTailEntries = indexTailEntries;
    this.#s = {
      insert: db.prepare<Row>(
        `INSERT INTO entries (id, conversation_id, position, seq, kind, frame_type, to_connection, at, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertRun: db.prepare<[string, number, number, Buffer]>(
        `INSERT INTO runs (conversation_id, first_position, last_position, pairs)
         VALUES (?, ?, ?, ?)`,
      ),
      deleteRun: db.prepare<[string, number]>(
        `DELETE FROM runs WHERE conversation_id = ? AND first_position = ?`,
      ),
      deleteRuns: db.prepare<[string]>(`DELETE FROM runs WHERE conversation_id = ?`),
      setIndexedThrough: db.prepare<[number]>(`UPDATE log_index SET indexed_through = ?`),
      indexedThrough: db.prepare<[], number>(`SELECT indexed_through FROM log_index`).pluck(),
      tailSince: db.prepare<[number], { id: number; conversation_id: string; position: number }>(
        `SELECT id, conversation_id, position FROM entries WHERE id > ? ORDER BY id`,
      ),
      lastId: db
        .prepare<[], number>(
          `SELECT max((SELECT coalesce(max(id), 0) FROM entries), indexed_through) FROM log_index`,
        )
        .pluck(),
      storedLastPosition: db
        .prepare<[string], number>(
          `SELECT last_position FROM runs WHERE conversation_id = ?
           ORDER BY first_position DESC LIMIT 1`,
        )
        .pluck(),
      /** The first position of the run that holds `position`, or of the first run after it. */
      runStart: db
        .prepare<[string, number], number>(
          `SELECT first_position FROM runs WHERE conversation_id = ? AND first_position <= ?
           ORDER BY first_position DESC LIMIT 1`,
        )
        .pluck(),
      runsUp: db.prepare<[string, number, number, number], StoredRun>(
        `SELECT first_position, last_position, pairs FROM runs
         WHERE conversation_id = ? AND first_position >= ? AND first_position < ?
         ORDER BY first_position LIMIT ?`,
      ),
      runsDown: db.prepare<[string, number, number], StoredRun>(
        `SELECT first_position, last_position, pairs FROM runs
         WHERE conversation_id = ? AND first_position < ?
         ORDER BY first_position DESC LIMIT ?`,
      ),
      // One entry by id, each with the conditions of a read.
      frameSeqOf: db
        .prepare<[number], number>(`SELECT seq FROM entries WHERE id = ? AND kind = 'frame'`)
        .pluck(),
      eventSeqOf: db
        .prepare<[number], number>(
          `SELECT seq FROM entries WHERE id = ? AND kind = 'frame' AND to_connection IS NULL`,
        )
        .pluck(),
      deleteById: db.prepare<[number]>(`DELETE FROM entries WHERE id = ?`),
      // Summaries read every entry once, as version 2 did (there through its primary key).
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
      pageCount: db.prepare<[], number>(`PRAGMA page_count`).pluck(),
      pageSize: db.prepare<[], number>(`PRAGMA page_size`).pluck(),
    };
    this.#bodies = db.prepare<unknown[], { id: number; body: string }>(
      `SELECT id, body FROM entries WHERE id IN (SELECT value FROM json_each(?))`,
    );
    this.#appendBatch = db.transaction(
      (entries: readonly LogEntry[], lastOf: Map<string, number>) =>
        this.#writeBatch(entries, lastOf),
    );
    const readTransaction = db.transaction((work: () => unknown) => work());
    this.#readTogether = (work) => readTransaction.deferred(work);
    this.#nextId = (this.#s.lastId.get() ?? 0) + 1;
    this.#syncTail();
  }

  /**
   * Writes a batch in one transaction, or nothing of it: a position that does not follow its
   * conversation's last fails the whole batch (a `log_unavailable` from the store).
   */
  appendBatch(entries: readonly LogEntry[]): void {
    // Each conversation's last position in this batch, for the check.
    const lastOf = new Map<string, number>();
    const firstId = this.#nextId;
    const tail = this.#tail;
    const tailEntries = this.#tailEntries;
    const through = this.#through;
    let stored: boolean;
    try {
      stored = this.#appendBatch(entries, lastOf);
    } catch (error) {
      // Rolled back: the tail stored inside it is the tail again.
      this.#tail = tail;
      this.#tailEntries = tailEntries;
      this.#through = through;
      throw error;
    }
    this.#nextId = firstId + entries.length;
    this.#seenId = this.#nextId - 1;
    if (stored) return;
    for (let index = 0; index < entries.length; index += 1) {
      const entry = entries[index] as LogEntry;
      this.#addToTail(entry.conversation_id, entry.position, firstId + index);
    }
  }

  /** The batch transaction's body; true when it stored the tail (this batch included) as runs. */
  #writeBatch(entries: readonly LogEntry[], lastOf: Map<string, number>): boolean {
    const { insert } = this.#s;
    let id = this.#nextId;
    for (const entry of entries) {
      const conversationId = entry.conversation_id;
      const last = lastOf.get(conversationId) ?? this.#lastPosition(conversationId);
      if (entry.position <= last) {
        throw new Error(
          `position ${entry.position} of conversation ${conversationId} is not after its last, ${last}`,
        );
      }
      lastOf.set(conversationId, entry.position);
      const frame = entry.kind === 'frame';
      insert.run(
        id,
        conversationId,
        entry.position,
        frame ? entry.seq : null,
        entry.kind,
        frame ? entry.frame.type : null,
        frame ? (entry.to ?? null) : null,
        entry.at,
        entryJson(entry),
      );
      id += 1;
    }
    const retention = this.#retention;
    let past: string[] | undefined;
    if (retention !== undefined) {
      // Nothing to trim while a conversation's newest position is within the retention.
      for (const [conversationId, newest] of lastOf) {
        if (newest > retention) (past ??= []).push(conversationId);
      }
    }
    if (past === undefined && this.#tailEntries + entries.length < this.#indexTailEntries) {
      return false;
    }
    this.#storeTail(entries, id - 1);
    for (const conversationId of past ?? []) {
      this.#trim(conversationId, (lastOf.get(conversationId) as number) - (retention as number));
    }
    return true;
  }

  /**
   * Stores every tail run, this batch's entries included, in the open transaction: one row per
   * conversation (per {@link RUN_PAIRS} entries).
   */
  #storeTail(entries: readonly LogEntry[], through: number): void {
    const runs = new Map<string, Run>();
    for (const [conversationId, run] of this.#tail) {
      // Copies: the tail stays as it was if the transaction fails.
      runs.set(conversationId, { positions: [...run.positions], ids: [...run.ids] });
    }
    let id = this.#nextId;
    for (const entry of entries) {
      let run = runs.get(entry.conversation_id);
      if (run === undefined) {
        run = { positions: [], ids: [] };
        runs.set(entry.conversation_id, run);
      }
      run.positions.push(entry.position);
      run.ids.push(id);
      id += 1;
    }
    for (const [conversationId, run] of runs) this.#insertRuns(conversationId, run);
    this.#s.setIndexedThrough.run(through);
    // Every run is stored now (appendBatch puts the tail back if the transaction fails).
    this.#tail = new Map();
    this.#tailEntries = 0;
    this.#through = through;
  }

  /** Stores a run of a conversation, split at {@link RUN_PAIRS}. */
  #insertRuns(conversationId: string, run: Run): void {
    for (let start = 0; start < run.positions.length; start += RUN_PAIRS) {
      const positions = run.positions.slice(start, start + RUN_PAIRS);
      const ids = run.ids.slice(start, start + RUN_PAIRS);
      this.#s.insertRun.run(
        conversationId,
        positions[0] as number,
        positions.at(-1) as number,
        packRun(positions, ids),
      );
    }
  }

  /**
   * Deletes a conversation's entries up to `upTo`, except its newest frame (so that its seq stays
   * known), in the open transaction; the tail is stored, so every run is. A run that loses some of
   * its entries is stored again with the rest.
   */
  #trim(conversationId: string, upTo: number): void {
    const { deleteById, deleteRun, frameSeqOf, runsUp } = this.#s;
    const keep = this.#walkFrom(conversationId, Infinity, true, (_position, id) =>
      frameSeqOf.get(id) === undefined ? undefined : id,
    );
    let cursor = -Infinity;
    for (;;) {
      const page = runsUp.all(conversationId, cursor, upTo + 1, RUN_PAGE);
      for (const run of page) {
        const { positions, ids } = unpackRun(run.pairs);
        const kept: Run = { positions: [], ids: [] };
        for (let index = 0; index < ids.length; index++) {
          const id = ids[index] as number;
          const position = positions[index] as number;
          if (position <= upTo && id !== keep) {
            deleteById.run(id);
          } else {
            kept.positions.push(position);
            kept.ids.push(id);
          }
        }
        if (kept.ids.length === ids.length) continue;
        deleteRun.run(conversationId, run.first_position);
        this.#insertRuns(conversationId, kept);
      }
      const last = page.at(-1);
      if (last === undefined || page.length < RUN_PAGE) return;
      cursor = last.first_position + 1;
    }
  }

  /** A conversation's last position (0 when it has none). */
  #lastPosition(conversationId: string): number {
    return (
      this.#tail.get(conversationId)?.positions.at(-1) ??
      this.#s.storedLastPosition.get(conversationId) ??
      0
    );
  }

  #addToTail(conversationId: string, position: number, id: number): void {
    let run = this.#tail.get(conversationId);
    if (run === undefined) {
      run = { positions: [], ids: [] };
      this.#tail.set(conversationId, run);
    }
    run.positions.push(position);
    run.ids.push(id);
    this.#tailEntries += 1;
  }

  /**
   * Brings the tail kept here up to the file: nothing to do for the store that writes it, and
   * what another connection wrote since for a reader (`parley export` beside a running server).
   */
  #syncTail(): void {
    const through = this.#s.indexedThrough.get() ?? 0;
    if (through !== this.#through) {
      this.#tail = new Map();
      this.#tailEntries = 0;
      this.#through = through;
      this.#seenId = through;
    }
    for (const row of this.#s.tailSince.all(this.#seenId)) {
      this.#addToTail(row.conversation_id, row.position, row.id);
      this.#seenId = row.id;
    }
  }

  /**
   * Walks a conversation's entries from `position` (inclusive), upwards or downwards (`down`), and
   * returns the first non-undefined result of `visit`, or undefined at the end.
   */
  #walkFrom<TResult>(
    conversationId: string,
    position: number,
    down: boolean,
    visit: (position: number, id: number) => TResult | undefined,
  ): TResult | undefined {
    const tailRun = this.#tail.get(conversationId);
    const tail = tailRun === undefined ? undefined : arrayPairs(tailRun);
    const visitRun = (run: Pairs): TResult | undefined => {
      if (down) {
        for (let index = firstAbove(run, position) - 1; index >= 0; index--) {
          const result = visit(run.position(index), run.id(index));
          if (result !== undefined) return result;
        }
        return undefined;
      }
      for (let index = firstAbove(run, position - 1); index < run.length; index++) {
        const result = visit(run.position(index), run.id(index));
        if (result !== undefined) return result;
      }
      return undefined;
    };
    // Stored runs lie wholly below the tail's first position.
    const below = tailRun?.positions[0] ?? Infinity;
    if (tail !== undefined && (down || position >= below)) {
      const result = visitRun(tail);
      if (result !== undefined || !down) return result;
    }
    const { runsUp, runsDown, runStart } = this.#s;
    // A page of runs per statement, after the run this read already holds, if any.
    let size = 1;
    if (down) {
      let before = Math.min(below, position + 1);
      for (;;) {
        const page = runsDown.all(conversationId, before, size);
        for (const run of page) {
          const result = visitRun(blobPairs(run.pairs));
          if (result !== undefined) return result;
        }
        const last = page.at(-1);
        if (last === undefined || page.length < size) break;
        before = last.first_position;
        size = Math.min(size * 2, RUN_PAGE);
      }
      return undefined;
    }
    let from: number;
    const held = this.#heldRun(conversationId, position);
    if (held === undefined) {
      from = runStart.get(conversationId, position) ?? -Infinity;
    } else {
      const result = visitRun(blobPairs(held.pairs));
      if (result !== undefined) return result;
      from = held.first_position + 1;
    }
    for (;;) {
      const page = runsUp.all(conversationId, from, below, size);
      for (const run of page) {
        if (run.last_position < position) continue;
        this.#hold(conversationId, run);
        const result = visitRun(blobPairs(run.pairs));
        if (result !== undefined) return result;
      }
      const last = page.at(-1);
      if (last === undefined || page.length < size) break;
      from = last.first_position + 1;
      size = Math.min(size * 2, RUN_PAGE);
    }
    return tail === undefined ? undefined : visitRun(tail);
  }

  /**
   * The stored run holding `position` if this read already read it: the store's search by seq
   * probes the same few runs about 20 times in one read.
   */
  #heldRun(conversationId: string, position: number): StoredRun | undefined {
    if (this.#held?.conversationId !== conversationId) return undefined;
    return this.#held.runs.find(
      (run) => run.first_position <= position && position <= run.last_position,
    );
  }

  #hold(conversationId: string, run: StoredRun): void {
    if (!this.#reading) return;
    if (this.#held?.conversationId !== conversationId) this.#held = { conversationId, runs: [] };
    if (this.#held.runs.length < RUN_PAGE) this.#held.runs.push(run);
  }

  /** Entries after a position, oldest first, at most `limit` (-1: all); their JSON. */
  readEntries(conversationId: string, afterPosition: number, limit: number): string[] {
    if (limit === 0) return [];
    return this.#read(() =>
      this.#bodiesAlong(
        conversationId,
        afterPosition + 1,
        false,
        limit,
        () => true,
        this.#bodies,
        [],
      ),
    );
  }

  /**
   * The bodies of a conversation's entries along a walk from `start` while `within` holds for
   * their positions, at most `limit` (-1: all), read by `statement` (ids JSON first, then
   * `filters`) a chunk of ids at a time: one statement per entry cost three times as much.
   */
  #bodiesAlong(
    conversationId: string,
    start: number,
    down: boolean,
    limit: number,
    within: (position: number) => boolean,
    statement: Database.Statement<unknown[], { id: number; body: string }>,
    filters: readonly unknown[],
  ): string[] {
    const bodies: string[] = [];
    let ids: number[] = [];
    const room = () => (limit < 0 ? Infinity : limit - bodies.length);
    const fetch = () => {
      if (ids.length === 0) return;
      const found = new Map<number, string>();
      for (const row of statement.all(JSON.stringify(ids), ...filters)) found.set(row.id, row.body);
      for (const id of ids) {
        const body = found.get(id);
        if (body !== undefined && room() > 0) bodies.push(body);
      }
      ids = [];
    };
    this.#walkFrom(conversationId, start, down, (position, id) => {
      if (!within(position)) return true;
      ids.push(id);
      if (ids.length < Math.min(Math.max(room(), 16), BODY_CHUNK)) return undefined;
      fetch();
      return room() > 0 ? undefined : true;
    });
    fetch();
    return bodies;
  }

  /** The newest position, 0 when the conversation has none. */
  maxPosition(conversationId: string): number {
    return this.#read(() => this.#lastPosition(conversationId));
  }

  /** The newest position and the seq of the newest frame (0 when none). */
  lastPosition(conversationId: string): { position: number; seq: number } | undefined {
    return this.#read(() => {
      const position = this.#lastPosition(conversationId);
      if (position === 0) return undefined;
      const seq = this.#walkFrom(conversationId, position, true, (_position, id) =>
        this.#s.frameSeqOf.get(id),
      );
      return { position, seq: seq ?? 0 };
    });
  }

  /** The seq of the oldest event frame kept. */
  firstRetainedSeq(conversationId: string): number | undefined {
    return this.#read(() =>
      this.#walkFrom(conversationId, -Infinity, false, (_position, id) =>
        this.#s.eventSeqOf.get(id),
      ),
    );
  }

  /**
   * The first frame at or after a position: one probe of the store's seq-to-position search (call
   * it inside {@link together}).
   */
  firstFrameFrom(
    conversationId: string,
    position: number,
  ): { position: number; seq: number } | undefined {
    return this.#walkFrom(conversationId, position, false, (found, id) => {
      const seq = this.#s.frameSeqOf.get(id);
      return seq === undefined ? undefined : { position: found, seq };
    });
  }

  /**
   * Frames of one conversation in position order (newest first with `newest`), at most `limit`:
   * from position `bounds.from` (inclusive) to `bounds.below` (exclusive); `types` is the JSON of
   * the frame types asked for, when the shape has them.
   */
  frames(
    conversationId: string,
    shape: FrameShape,
    bounds: { from: number; below: number },
    types: string | undefined,
    limit: number,
  ): string[] {
    const statement = this.#frameStatement(shape);
    const filters = types === undefined ? [] : [types];
    const start = shape.newest ? bounds.below - 1 : bounds.from;
    const within = shape.newest
      ? (position: number) => position >= bounds.from
      : (position: number) => position < bounds.below;
    return this.#read(() =>
      this.#bodiesAlong(conversationId, start, shape.newest, limit, within, statement, filters),
    );
  }

  /** Runs several reads in one, so that each sees the same index and tail. */
  together<TResult>(work: () => TResult): TResult {
    return this.#read(work);
  }

  listConversations(limit: number): ConversationSummary[] {
    return this.#s.listConversations.all(limit);
  }

  idleConversations(before: number, limit: number): string[] {
    return this.#s.idleConversations.all(before, limit);
  }

  /** Removes a conversation's entries and runs; how many entries there were. */
  deleteConversation(conversationId: string): number {
    const removed = this.#db.transaction(() => {
      let count = 0;
      this.#walkFrom(conversationId, -Infinity, false, (_position, id) => {
        count += this.#s.deleteById.run(id).changes;
        return undefined;
      });
      this.#s.deleteRuns.run(conversationId);
      return count;
    })();
    const run = this.#tail.get(conversationId);
    if (run !== undefined) {
      this.#tail.delete(conversationId);
      this.#tailEntries -= run.ids.length;
    }
    return removed;
  }

  /** The file's size in bytes: its pages (those still in the WAL included). */
  sizeBytes(): number {
    return (this.#s.pageCount.get() ?? 0) * (this.#s.pageSize.get() ?? 0);
  }

  #read<TResult>(work: () => TResult): TResult {
    if (this.#db.inTransaction) return work();
    // One snapshot for the runs, the tail and the rows: another connection may write between
    // two statements otherwise.
    this.#reading = true;
    try {
      return this.#readTogether(() => {
        this.#syncTail();
        return work();
      }) as TResult;
    } finally {
      this.#reading = false;
      this.#held = undefined;
    }
  }

  /** One entry by id, if it is a frame of the shape (the positions are the walk's). */
  #frameStatement(shape: FrameShape): Database.Statement<unknown[], { id: number; body: string }> {
    const key = `${shape.eventsOnly},${shape.types}`;
    let statement = this.#frameShapes.get(key);
    if (statement === undefined) {
      const conditions = [`kind = 'frame'`];
      if (shape.eventsOnly) conditions.push('to_connection IS NULL');
      if (shape.types) conditions.push('frame_type IN (SELECT value FROM json_each(?))');
      statement = this.#db.prepare<unknown[], { id: number; body: string }>(
        `SELECT id, body FROM entries WHERE id IN (SELECT value FROM json_each(?))
         AND ${conditions.join(' AND ')}`,
      );
      this.#frameShapes.set(key, statement);
    }
    return statement;
  }
}

/** A run's (position, id) pairs, read in place: from the tail's arrays or a stored blob. */
interface Pairs {
  readonly length: number;
  position(index: number): number;
  id(index: number): number;
}

function arrayPairs(run: Run): Pairs {
  return {
    length: run.ids.length,
    position: (index) => run.positions[index] as number,
    id: (index) => run.ids[index] as number,
  };
}

/** A stored run's blob read where it is (no copy: a probe reads a few of its pairs). */
function blobPairs(pairs: Buffer): Pairs {
  return {
    length: pairs.length / 16,
    position: (index) => pairs.readDoubleLE(index * 16),
    id: (index) => pairs.readDoubleLE(index * 16 + 8),
  };
}

/** The index of the first pair whose position is above `value` (the run's length if none). */
function firstAbove(run: Pairs, value: number): number {
  let low = 0;
  let high = run.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (run.position(middle) > value) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** The shape of a frame read, from its range. */
export function frameShape(range: FrameRange, newest: boolean): FrameShape {
  return {
    eventsOnly: range.eventsOnly ?? true,
    types: range.types !== undefined,
    newest,
  };
}
