/**
 * An {@link EventStore} in process memory: for tests, and as the fallback when no log file can be
 * opened. Bounded like everything else: per conversation and in the number of conversations.
 */
import { ParleyError } from '../errors.js';
import type { ConversationSummary, EventStore, FrameRange } from './event-store.js';
import type { FrameEntry, LogEntry } from './log-entry.js';

/** Options for {@link MemoryEventStore}. */
export interface MemoryEventStoreOptions {
  /**
   * Entries kept per conversation; past it the oldest are dropped (so `firstRetainedSeq` moves).
   * @default 100_000
   */
  maxEntriesPerConversation?: number;
  /** Conversations kept; past it the one appended to least recently is dropped. @default 10_000 */
  maxConversations?: number;
}

interface StoredConversation {
  /** Frozen copies, by position; retained ones start at `head`. */
  entries: LogEntry[];
  head: number;
  /** Highest frame seq ever appended: survives the trimming of old entries. */
  lastSeq: number;
}

/**
 * Keeps log entries in memory. Stored entries are deep-frozen copies, so reads hand them out as
 * they are and neither the writer nor a reader can change what is stored. Positions must grow
 * within a conversation; a batch with a position that does not is rejected as a whole.
 *
 * @example
 * const store = new MemoryEventStore({ maxEntriesPerConversation: 1000 });
 * const log = createEventLog({ store });
 */
export class MemoryEventStore implements EventStore {
  readonly #maxEntries: number;
  readonly #maxConversations: number;
  /** Map order is append order: the first key is the conversation appended to least recently. */
  readonly #conversations = new Map<string, StoredConversation>();
  #closed = false;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.#maxEntries = positiveInteger(options.maxEntriesPerConversation ?? 100_000);
    this.#maxConversations = positiveInteger(options.maxConversations ?? 10_000);
  }

  append(entries: readonly LogEntry[]): Promise<void> {
    return this.#settle(() => {
      // Check the whole batch before storing any of it: a batch is atomic.
      const lastPositions = new Map<string, number>();
      for (const entry of entries) {
        const last =
          lastPositions.get(entry.conversation_id) ??
          this.#conversations.get(entry.conversation_id)?.entries.at(-1)?.position ??
          0;
        if (entry.position <= last) {
          throw new ParleyError(
            'log_unavailable',
            `Position ${entry.position} of conversation ${entry.conversation_id} is not after its last position ${last}.`,
          );
        }
        lastPositions.set(entry.conversation_id, entry.position);
      }
      for (const entry of entries) this.#store(entry);
    });
  }

  readEntries(
    conversationId: string,
    options: { afterPosition?: number; limit?: number } = {},
  ): Promise<LogEntry[]> {
    return this.#settle(() => {
      const conversation = this.#conversations.get(conversationId);
      if (conversation === undefined) return [];
      const after = options.afterPosition ?? 0;
      const limit = options.limit ?? Infinity;
      const result: LogEntry[] = [];
      const { entries } = conversation;
      for (let index = conversation.head; index < entries.length; index++) {
        if (result.length >= limit) break;
        const entry = entries[index];
        if (entry !== undefined && entry.position > after) result.push(entry);
      }
      return result;
    });
  }

  readFrames(conversationId: string, range: FrameRange = {}): Promise<FrameEntry[]> {
    return this.#settle(() => {
      const conversation = this.#conversations.get(conversationId);
      const limit = range.limit ?? 100;
      if (conversation === undefined || limit <= 0) return [];
      const eventsOnly = range.eventsOnly ?? true;
      const types = range.types === undefined ? undefined : new Set(range.types);
      const matches: FrameEntry[] = [];
      let sorted = true;
      for (let index = conversation.head; index < conversation.entries.length; index++) {
        const entry = conversation.entries[index];
        if (entry?.kind !== 'frame') continue;
        if (range.after !== undefined && entry.seq <= range.after) continue;
        if (range.before !== undefined && entry.seq >= range.before) continue;
        if (eventsOnly && entry.to !== undefined) continue;
        if (types !== undefined && !types.has(entry.frame.type)) continue;
        const previous = matches.at(-1);
        if (previous !== undefined && previous.seq > entry.seq) sorted = false;
        matches.push(entry);
      }
      // One writer appends seqs in position order; sort only when someone did otherwise.
      if (!sorted) matches.sort((a, b) => a.seq - b.seq || a.position - b.position);
      const newest = range.before !== undefined && range.after === undefined;
      return newest ? matches.slice(Math.max(0, matches.length - limit)) : matches.slice(0, limit);
    });
  }

  lastPosition(conversationId: string): Promise<{ position: number; seq: number } | undefined> {
    return this.#settle(() => {
      const conversation = this.#conversations.get(conversationId);
      const last = conversation?.entries.at(-1);
      if (conversation === undefined || last === undefined) return undefined;
      return { position: last.position, seq: conversation.lastSeq };
    });
  }

  firstRetainedSeq(conversationId: string): Promise<number | undefined> {
    return this.#settle(() => {
      const conversation = this.#conversations.get(conversationId);
      if (conversation === undefined) return undefined;
      let lowest: number | undefined;
      for (let index = conversation.head; index < conversation.entries.length; index++) {
        const entry = conversation.entries[index];
        if (entry?.kind !== 'frame' || entry.to !== undefined) continue;
        if (lowest === undefined || entry.seq < lowest) lowest = entry.seq;
      }
      return lowest;
    });
  }

  listConversations(options: { limit?: number } = {}): Promise<ConversationSummary[]> {
    return this.#settle(() => {
      const summaries: ConversationSummary[] = [];
      for (const [conversationId, conversation] of this.#conversations) {
        const first = conversation.entries[conversation.head];
        const last = conversation.entries.at(-1);
        if (first === undefined || last === undefined) continue;
        summaries.push({
          conversation_id: conversationId,
          entries: conversation.entries.length - conversation.head,
          last_seq: conversation.lastSeq,
          first_at: first.at,
          last_at: last.at,
        });
      }
      summaries.sort(
        (a, b) => b.last_at - a.last_at || compareStrings(a.conversation_id, b.conversation_id),
      );
      return summaries.slice(0, Math.max(0, options.limit ?? 100));
    });
  }

  /** Conversations whose newest entry is older than `before` (epoch ms), oldest first. */
  idleConversations(before: number, limit = 1000): Promise<string[]> {
    return this.#settle(() => {
      const idle: { id: string; at: number }[] = [];
      for (const [id, conversation] of this.#conversations) {
        const at = conversation.entries.at(-1)?.at;
        if (at !== undefined && at < before) idle.push({ id, at });
      }
      idle.sort((a, b) => a.at - b.at);
      return idle.slice(0, Math.max(0, limit)).map((conversation) => conversation.id);
    });
  }

  /** Removes every entry of a conversation; resolves with how many there were. */
  deleteConversation(conversationId: string): Promise<number> {
    return this.#settle(() => {
      const conversation = this.#conversations.get(conversationId);
      this.#conversations.delete(conversationId);
      return conversation === undefined ? 0 : conversation.entries.length - conversation.head;
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#conversations.clear();
    return Promise.resolve();
  }

  #store(entry: LogEntry): void {
    let conversation = this.#conversations.get(entry.conversation_id);
    if (conversation === undefined) {
      conversation = { entries: [], head: 0, lastSeq: 0 };
    } else {
      // Re-inserting moves the conversation to the end of the map: the most recently touched.
      this.#conversations.delete(entry.conversation_id);
    }
    this.#conversations.set(entry.conversation_id, conversation);
    if (this.#conversations.size > this.#maxConversations) {
      const oldest = this.#conversations.keys().next().value;
      if (oldest !== undefined) this.#conversations.delete(oldest);
    }

    conversation.entries.push(frozenCopy(entry));
    if (entry.kind === 'frame' && entry.seq > conversation.lastSeq)
      conversation.lastSeq = entry.seq;
    if (conversation.entries.length - conversation.head > this.#maxEntries) {
      conversation.head += 1;
      // Compact now and then instead of shifting on every append: amortised O(1).
      if (conversation.head >= 1024 && conversation.head * 2 >= conversation.entries.length) {
        conversation.entries = conversation.entries.slice(conversation.head);
        conversation.head = 0;
      }
    }
  }

  /** Runs a read or write; a throw (a closed store, a rejected batch) becomes a rejection. */
  #settle<TResult>(work: () => TResult): Promise<TResult> {
    return new Promise((resolve) => {
      if (this.#closed) {
        throw new ParleyError('log_unavailable', 'The memory event store is closed.');
      }
      resolve(work());
    });
  }
}

function positiveInteger(value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Expected a positive integer, got ${value}.`);
  }
  return value;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A deep-frozen copy. Log entries are JSON data, which is copied by hand: `structuredClone` costs
 * about 2.4 µs an entry on Node 20 against 0.3 µs, and was a fifth of a replay's time. Anything
 * else (a class instance, a cycle past the depth bound) goes to `structuredClone` as before.
 */
function frozenCopy<TValue>(value: TValue, depth = 0): TValue {
  if (typeof value !== 'object' || value === null) {
    // structuredClone's error for a function or a symbol, as before.
    return typeof value === 'function' || typeof value === 'symbol'
      ? structuredClone(value)
      : value;
  }
  if (depth > 64) return deepFreeze(structuredClone(value));
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    for (const item of value as unknown[]) copy.push(frozenCopy(item, depth + 1));
    return Object.freeze(copy) as TValue;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null)
    return deepFreeze(structuredClone(value));
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = frozenCopy((value as Record<string, unknown>)[key], depth + 1);
    // An own `__proto__` key (JSON.parse makes one) stays a key; assigning it would set the
    // copy's prototype instead.
    if (key === '__proto__') {
      Object.defineProperty(copy, key, {
        value: item,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else copy[key] = item;
  }
  return Object.freeze(copy) as TValue;
}

function deepFreeze<TValue>(value: TValue): TValue {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
