/**
 * The event store as cluster mode uses it: the PostgreSQL store with a record of whether
 * PostgreSQL answers, for the node's status and for refusing input while it does not. (The event
 * log holds and retries a batch PostgreSQL refuses, and drops the entries of a conversation it
 * fences off.)
 */
import { ParleyError } from '../errors.js';
import type { ConversationSummary, EventStore, FrameRange } from '../event-log/event-store.js';
import type { FrameEntry, LogEntry } from '../event-log/log-entry.js';
import type { PostgresEventStore } from '../event-log/postgres-store.js';

/** Options for {@link ClusterStore}. */
export interface ClusterStoreOptions {
  /** Told once when PostgreSQL stops answering, and once when it answers again. */
  onAvailability?: (available: boolean, error?: Error) => void;
}

/**
 * Wraps the PostgreSQL store; every call updates {@link ClusterStore.available}.
 *
 * @example
 * const store = new ClusterStore(await PostgresEventStore.open(url, { requireFence: true, onFenced }));
 */
export class ClusterStore implements EventStore {
  readonly inner: PostgresEventStore;
  readonly #onAvailability: (available: boolean, error?: Error) => void;
  #available = true;
  #lastError: string | undefined;

  constructor(inner: PostgresEventStore, options: ClusterStoreOptions = {}) {
    this.inner = inner;
    this.#onAvailability = options.onAvailability ?? (() => undefined);
  }

  /** Whether the last call to PostgreSQL succeeded. */
  get available(): boolean {
    return this.#available;
  }

  /** The last failure's message while unavailable (no credentials: the store never puts them in). */
  get lastError(): string | undefined {
    return this.#available ? undefined : this.#lastError;
  }

  /** One attempt: the event log holds and retries a batch that fails (and reports it). */
  append(entries: readonly LogEntry[]): Promise<void> {
    return this.#track(() => this.inner.append(entries));
  }

  readEntries(
    conversationId: string,
    options?: { afterPosition?: number; limit?: number },
  ): Promise<LogEntry[]> {
    return this.#track(() => this.inner.readEntries(conversationId, options));
  }

  readFrames(conversationId: string, range?: FrameRange): Promise<FrameEntry[]> {
    return this.#track(() => this.inner.readFrames(conversationId, range));
  }

  lastPosition(conversationId: string): Promise<{ position: number; seq: number } | undefined> {
    return this.#track(() => this.inner.lastPosition(conversationId));
  }

  firstRetainedSeq(conversationId: string): Promise<number | undefined> {
    return this.#track(() => this.inner.firstRetainedSeq(conversationId));
  }

  listConversations(options?: { limit?: number }): Promise<ConversationSummary[]> {
    return this.#track(() => this.inner.listConversations(options));
  }

  idleConversations(before: number, limit?: number): Promise<string[]> {
    return this.#track(() => this.inner.idleConversations(before, limit));
  }

  deleteConversation(conversationId: string): Promise<number> {
    return this.#track(() => this.inner.deleteConversation(conversationId));
  }

  /** See {@link PostgresEventStore.fence}. */
  fence(conversationId: string, epoch: number): Promise<void> {
    return this.#track(() => this.inner.fence(conversationId, epoch));
  }

  unfence(conversationId: string): void {
    this.inner.unfence(conversationId);
  }

  currentEpoch(conversationId: string): Promise<number | undefined> {
    return this.#track(() => this.inner.currentEpoch(conversationId));
  }

  async close(): Promise<void> {
    await this.inner.close();
  }

  async #track<TResult>(work: () => Promise<TResult>): Promise<TResult> {
    try {
      const result = await work();
      this.#mark(true);
      return result;
    } catch (error) {
      if (isUnavailable(error)) this.#mark(false, error as Error);
      throw error;
    }
  }

  #mark(available: boolean, error?: Error): void {
    if (error !== undefined) this.#lastError = error.message;
    if (available === this.#available) return;
    this.#available = available;
    this.#onAvailability(available, error);
  }
}

function isUnavailable(error: unknown): boolean {
  return error instanceof ParleyError && error.code === 'log_unavailable';
}
