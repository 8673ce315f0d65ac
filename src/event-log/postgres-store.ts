/**
 * Over 300 lines because it is the whole store interface over PostgreSQL, fencing included, one method each.
 *
 * The shared {@link EventStore} of cluster mode: one PostgreSQL schema, one row per entry, the same
 * semantics as the SQLite store, plus fencing. A batch is one call of the schema's
 * `append_entries` function (one round trip, one transaction, rows passed as arrays and inserted
 * with `unnest`).
 *
 * Fencing: each conversation has an epoch in PostgreSQL. {@link PostgresEventStore.fence} records
 * the epoch this instance writes a conversation with and raises PostgreSQL's to it; every append
 * checks, inside its transaction, that each fenced conversation of the batch still has this
 * instance's epoch, and otherwise writes nothing and rejects with `cluster_fenced`.
 */
import pg from 'pg';
import { ParleyError } from '../errors.js';
import type { ConversationSummary, EventStore, FrameRange } from './event-store.js';
import type { FrameEntry, LogEntry } from './log-entry.js';
import { appendColumns, checkSchemaName, migrate } from './postgres-schema.js';

export { POSTGRES_SCHEMA_VERSION } from './postgres-schema.js';

/** Options for {@link PostgresEventStore.open}. */
export interface PostgresEventStoreOptions {
  /** The schema that holds Parley's tables; created when missing. @default 'parley' */
  schema?: string;
  /** Entries kept per conversation, as in the SQLite store. Unlimited when absent. */
  retentionPerConversation?: number;
  /**
   * Refuse appends to a conversation this instance has not fenced (cluster mode, where every
   * writer must hold a lease); otherwise such a conversation is written unchecked. @default false
   */
  requireFence?: boolean;
  /** Connections in the pool: one carries the appends, the others the reads. @default 4 */
  maxConnections?: number;
  /** How long to wait for a new connection before the operation fails. @default 5000 */
  connectionTimeoutMs?: number;
  /** Told when an idle pooled connection fails (the pool replaces it). @default ignored */
  onConnectionError?: (error: Error) => void;
}

/**
 * Stores log entries in PostgreSQL, shared by every instance of a cluster.
 *
 * @example
 * const store = await PostgresEventStore.open('postgres://parley@db/parley', { requireFence: true });
 * await store.fence('demo', lease.epoch);
 * const log = createEventLog({ store });
 */
export class PostgresEventStore implements EventStore {
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #retention: number | null;
  readonly #requireFence: boolean;
  /** The epoch this instance writes each fenced conversation with. */
  readonly #fences = new Map<string, number>();
  #closed = false;

  private constructor(pool: pg.Pool, schema: string, options: PostgresEventStoreOptions) {
    this.#pool = pool;
    this.#schema = schema;
    this.#retention = options.retentionPerConversation ?? null;
    this.#requireFence = options.requireFence ?? false;
  }

  /**
   * Connects, then creates the schema's tables or checks their version. Throws a `log_unavailable`
   * {@link ParleyError} when PostgreSQL cannot be reached, or the schema holds foreign tables or
   * another version. Messages name the server as host, port and database, never the password.
   */
  static async open(
    connectionString: string,
    options: PostgresEventStoreOptions = {},
  ): Promise<PostgresEventStore> {
    const schema = options.schema ?? 'parley';
    checkSchemaName(schema);
    const retention = options.retentionPerConversation;
    if (retention !== undefined && (!Number.isInteger(retention) || retention < 1)) {
      throw new RangeError(
        `retentionPerConversation must be a positive integer, got ${retention}.`,
      );
    }
    const maxConnections = options.maxConnections ?? 4;
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new RangeError(`maxConnections must be a positive integer, got ${maxConnections}.`);
    }
    const where = describeServer(connectionString);
    const types = new pg.TypeOverrides();
    // bigint columns (positions, seqs, epochs, times, counts) stay far below 2^53.
    types.setTypeParser(pg.types.builtins.INT8, Number);
    const pool = new pg.Pool({
      connectionString,
      max: maxConnections,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
      application_name: 'parley',
      types,
    });
    // Without a listener, an idle connection that fails (a restarted server) would crash the
    // process; the pool drops it and opens another on the next query.
    pool.on('error', (error) => options.onConnectionError?.(error));
    try {
      const client = await pool.connect();
      try {
        await migrate(client, schema, where);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw unavailable(`Cannot open the event log at ${where} (schema ${schema})`, error);
    }
    return new PostgresEventStore(pool, schema, options);
  }

  /**
   * Makes this instance the writer of `conversationId` at `epoch` (its lease's fencing token):
   * raises the conversation's epoch in PostgreSQL to `epoch`, never lowering it. Once this
   * resolves, no append with an older epoch can commit. Rejects with `cluster_fenced` (with
   * `details.current_epoch`) when PostgreSQL already holds a newer epoch; the fence is recorded
   * anyway, so that this instance's appends to the conversation are refused.
   */
  async fence(conversationId: string, epoch: number): Promise<void> {
    if (!Number.isSafeInteger(epoch) || epoch < 1) {
      throw new RangeError(`epoch must be a positive safe integer, got ${epoch}.`);
    }
    this.#fences.set(conversationId, epoch);
    const { rows } = await this.#query<{ epoch: number }>(
      'write',
      `INSERT INTO ${this.#schema}.conversations AS stored (conversation_id, epoch) VALUES ($1, $2)
       ON CONFLICT (conversation_id) DO UPDATE SET epoch = greatest(stored.epoch, excluded.epoch)
       RETURNING epoch`,
      [conversationId, epoch],
    );
    const current = rows[0]?.epoch ?? epoch;
    if (current !== epoch) {
      throw new ParleyError(
        'cluster_fenced',
        `Conversation ${conversationId} has epoch ${current} in the event log, newer than this instance's ${epoch}: another instance owns it.`,
        { details: { conversation_ids: [conversationId], current_epoch: current } },
      );
    }
  }

  /**
   * Forgets the fence of a conversation this instance no longer writes (its lease is released
   * and its actor stopped). With `requireFence`, its appends are refused again until the next fence.
   */
  unfence(conversationId: string): void {
    this.#fences.delete(conversationId);
  }

  /** The conversation's epoch in PostgreSQL, or undefined when it was never fenced. */
  async currentEpoch(conversationId: string): Promise<number | undefined> {
    const { rows } = await this.#query<{ epoch: number }>(
      'read',
      `SELECT epoch FROM ${this.#schema}.conversations WHERE conversation_id = $1`,
      [conversationId],
    );
    return rows[0]?.epoch;
  }

  async append(entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const { columns, conversations } = appendColumns(entries);
    const fencedIds: string[] = [];
    const fencedEpochs: number[] = [];
    const unfenced: string[] = [];
    for (const conversation of conversations) {
      const epoch = this.#fences.get(conversation);
      if (epoch !== undefined) {
        fencedIds.push(conversation);
        fencedEpochs.push(epoch);
      } else if (this.#requireFence) {
        unfenced.push(conversation);
      }
    }
    if (unfenced.length > 0) throw fenced(entries.length, unfenced.sort(), 'not fenced by');
    const { rows } = await this.#query<{ stale: string[] }>(
      'write',
      `SELECT ${this.#schema}.append_entries($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS stale`,
      [...columns, fencedIds, fencedEpochs, this.#retention],
    );
    const stale = rows[0]?.stale ?? [];
    if (stale.length > 0) throw fenced(entries.length, stale, 'taken over from');
  }

  async readEntries(
    conversationId: string,
    options: { afterPosition?: number; limit?: number } = {},
  ): Promise<LogEntry[]> {
    const { rows } = await this.#query<{ body: string }>(
      'read',
      `SELECT body FROM ${this.#schema}.entries WHERE conversation_id = $1 AND position > $2
       ORDER BY position LIMIT $3`,
      [
        conversationId,
        options.afterPosition ?? 0,
        options.limit === undefined ? null : Math.max(0, options.limit),
      ],
    );
    return rows.map((row) => JSON.parse(row.body) as LogEntry);
  }

  async readFrames(conversationId: string, range: FrameRange = {}): Promise<FrameEntry[]> {
    const limit = range.limit ?? 100;
    if (limit <= 0 || range.types?.length === 0) return [];
    const newest = range.before !== undefined && range.after === undefined;
    const parameters: unknown[] = [conversationId];
    // `kind = 'frame'` stays literal so that the planner can use the partial index.
    const conditions = [`conversation_id = $1`, `kind = 'frame'`];
    const bind = (condition: string, value: unknown) => {
      parameters.push(value);
      conditions.push(condition.replace('?', `$${parameters.length}`));
    };
    if (range.after !== undefined) bind('seq > ?', range.after);
    if (range.before !== undefined) bind('seq < ?', range.before);
    if (range.eventsOnly ?? true) conditions.push('to_connection IS NULL');
    if (range.types !== undefined) bind('frame_type = ANY (?)', range.types);
    parameters.push(limit);
    const order = newest ? 'seq DESC, position DESC' : 'seq, position';
    const { rows } = await this.#query<{ body: string }>(
      'read',
      `SELECT body FROM ${this.#schema}.entries WHERE ${conditions.join(' AND ')}
       ORDER BY ${order} LIMIT $${parameters.length}`,
      parameters,
    );
    if (newest) rows.reverse();
    return rows.map((row) => JSON.parse(row.body) as FrameEntry);
  }

  async lastPosition(
    conversationId: string,
  ): Promise<{ position: number; seq: number } | undefined> {
    const { rows } = await this.#query<{ position: number | null; seq: number | null }>(
      'read',
      `SELECT (SELECT max(position) FROM ${this.#schema}.entries WHERE conversation_id = $1) AS position,
              (SELECT seq FROM ${this.#schema}.entries WHERE conversation_id = $1 AND kind = 'frame'
               ORDER BY seq DESC LIMIT 1) AS seq`,
      [conversationId],
    );
    const row = rows[0];
    if (row?.position === null || row?.position === undefined) return undefined;
    return { position: row.position, seq: row.seq ?? 0 };
  }

  async firstRetainedSeq(conversationId: string): Promise<number | undefined> {
    const { rows } = await this.#query<{ seq: number }>(
      'read',
      `SELECT seq FROM ${this.#schema}.entries
       WHERE conversation_id = $1 AND kind = 'frame' AND to_connection IS NULL
       ORDER BY seq LIMIT 1`,
      [conversationId],
    );
    return rows[0]?.seq;
  }

  /** Erases the entries; the fence (`conversations.epoch`) stays, so fencing holds across it. */
  /** Conversations whose newest entry is older than `before` (epoch ms), oldest first. */
  async idleConversations(before: number, limit = 1000): Promise<string[]> {
    const { rows } = await this.#query<{ conversation_id: string }>(
      'read',
      `SELECT conversation_id FROM ${this.#schema}.entries GROUP BY conversation_id
       HAVING max(at) < $1 ORDER BY max(at), conversation_id COLLATE "C" LIMIT $2`,
      [before, Math.max(0, limit)],
    );
    return rows.map((row) => row.conversation_id);
  }

  async deleteConversation(conversationId: string): Promise<number> {
    const result = await this.#query(
      'write',
      `DELETE FROM ${this.#schema}.entries WHERE conversation_id = $1`,
      [conversationId],
    );
    return result.rowCount ?? 0;
  }

  async listConversations(options: { limit?: number } = {}): Promise<ConversationSummary[]> {
    const { rows } = await this.#query<ConversationSummary>(
      'read',
      `SELECT conversation_id, count(*) AS entries, coalesce(max(seq), 0) AS last_seq,
              min(at) AS first_at, max(at) AS last_at
       FROM ${this.#schema}.entries GROUP BY conversation_id
       ORDER BY last_at DESC, conversation_id COLLATE "C" LIMIT $1`,
      [Math.max(0, options.limit ?? 100)],
    );
    return rows;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  /** Runs one statement; any failure but a fence becomes a `log_unavailable` rejection. */
  async #query<TRow extends pg.QueryResultRow>(
    operation: 'read' | 'write',
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<TRow>> {
    if (this.#closed) {
      throw new ParleyError(
        'log_unavailable',
        `Event log ${operation} failed: the store is closed.`,
      );
    }
    try {
      return await this.#pool.query<TRow>(text, values);
    } catch (error) {
      throw unavailable(`Event log ${operation} failed`, error);
    }
  }
}

function fenced(entries: number, conversationIds: string[], how: string): ParleyError {
  return new ParleyError(
    'cluster_fenced',
    `The event log refused a batch of ${entries} entries: ${conversationIds.join(', ')} ${conversationIds.length === 1 ? 'is' : 'are'} ${how} this instance.`,
    { details: { conversation_ids: conversationIds } },
  );
}

/** `host:port/database` of a connection string: enough to find the server, no credentials. */
function describeServer(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `postgres://${url.host}${url.pathname}`;
  } catch {
    return 'PostgreSQL (unparsable connection string)';
  }
}

function unavailable(context: string, error: unknown): ParleyError {
  if (error instanceof ParleyError) return error;
  const reason =
    error instanceof AggregateError && error.errors[0] instanceof Error
      ? error.errors[0].message
      : error instanceof Error
        ? error.message
        : String(error);
  return new ParleyError('log_unavailable', `${context}: ${reason}`, { cause: error });
}
