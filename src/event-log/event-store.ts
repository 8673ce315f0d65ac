/**
 * The storage contract behind the event log: narrow on purpose (append a batch, read a range,
 * list conversations) so that the memory, SQLite and (later) Redis Streams backends stay small.
 */
import type { FrameEntry, LogEntry } from './log-entry.js';

/** What {@link EventStore.listConversations} returns per conversation. */
export interface ConversationSummary {
  conversation_id: string;
  /** Number of entries. */
  entries: number;
  /** Highest frame seq, 0 when none. */
  last_seq: number;
  first_at: number;
  last_at: number;
}

/**
 * A range of frames by seq: `after` < seq < `before`, returned oldest first, at most `limit`.
 * With `before` and no `after`, the newest `limit` frames before it (still oldest first); otherwise
 * the oldest `limit` after `after`. Frames with the same seq (a direct frame repeats the current
 * seq) come in position order.
 */
export interface FrameRange {
  after?: number;
  before?: number;
  /** @default 100 */
  limit?: number;
  /** Only event frames (no direct `to` frames). @default true */
  eventsOnly?: boolean;
  /** Only frames whose `frame.type` is in this list; all types when absent. */
  types?: readonly string[];
}

/**
 * A backend that stores log entries. Appends of one batch are atomic; positions are given by
 * the caller (the {@link EventLog} writer) and are unique per conversation.
 *
 * @example
 * await store.append([{ v: 1, kind: 'frame', conversation_id: 'demo', position: 1, ... }]);
 * const frames = await store.readFrames('demo', { after: 10, limit: 50 });
 */
export interface EventStore {
  append(entries: readonly LogEntry[]): Promise<void>;
  /** Entries with position > `afterPosition`, oldest first, at most `limit` (default all). */
  readEntries(
    conversationId: string,
    options?: { afterPosition?: number; limit?: number },
  ): Promise<LogEntry[]>;
  /** Frame entries in a seq range, when `before` is given the newest `limit` before it. */
  readFrames(conversationId: string, range?: FrameRange): Promise<FrameEntry[]>;
  /**
   * The last entry's position and the highest frame seq (0 when none) of a conversation, for
   * restore; undefined for an unknown one.
   */
  lastPosition(conversationId: string): Promise<{ position: number; seq: number } | undefined>;
  /**
   * The lowest seq of a retained event frame (for resume beyond retention), or undefined when
   * none is retained.
   */
  firstRetainedSeq(conversationId: string): Promise<number | undefined>;
  /** Known conversations, latest `last_at` first (ties by id), at most `limit` (default 100). */
  listConversations(options?: { limit?: number }): Promise<ConversationSummary[]>;
  /**
   * Conversations whose newest entry is older than `before` (epoch ms), oldest first, at most
   * `limit` (default 1000). Optional: a store without it never expires conversations.
   */
  idleConversations?(before: number, limit?: number): Promise<string[]>;
  /** Removes every entry of a conversation; resolves with how many there were. Optional. */
  deleteConversation?(conversationId: string): Promise<number>;
  /** What the log takes on disk, in bytes, for `/health`. Optional. */
  sizeBytes?(): Promise<number>;
  close(): Promise<void>;
}
