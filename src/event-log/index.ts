/**
 * `parley-engine/event-log`: the stores an application can choose for the event log, and the log's
 * entry format (docs/EVENT_LOG.md).
 *
 * @example
 * import { SqliteEventStore } from 'parley-engine/event-log';
 * const server = await startServer({ store: SqliteEventStore.open('data/chat.db') });
 */
export {
  LOG_ENTRY_VERSION,
  logEntrySchema,
  type LogEntry,
  type NewLogEntry,
  type FrameEntry,
  type ReplaySettings,
} from './log-entry.js';
export type { EventStore, ConversationSummary, FrameRange } from './event-store.js';
export { createEventLog, type EventLog, type EventLogOptions } from './event-log.js';
export { MemoryEventStore } from './memory-store.js';
export {
  SqliteEventStore,
  type SqliteEventStoreOptions,
  type CheckpointResult,
  type CheckpointStats,
} from './sqlite-store.js';
export {
  WorkerSqliteEventStore,
  type WorkerSqliteEventStoreOptions,
} from './worker-sqlite-store.js';
