/**
 * Parley's public API: the only entry point of the `parley-engine` package.
 *
 * @example
 * import { startServer, ToolRegistry, calculatorTool, defineTool } from 'parley-engine';
 * const server = await startServer({ port: 8080, tools: new ToolRegistry([calculatorTool]) });
 */
export { startServer, type ParleyServer, type StartServerOptions } from './server/server.js';
export {
  createEngine,
  type Clock,
  type Engine,
  type EngineOptions,
  type EngineStats,
  type ConnectionHandle,
  type TurnEffects,
} from './engine.js';
export {
  loadConfig,
  CONFIG_VARIABLES,
  isLoopback,
  type ParleyConfig,
  type ConfigOverrides,
} from './config.js';
export {
  ParleyError,
  toParleyError,
  ERROR_CODES,
  CLOSE_CODES,
  type ErrorCode,
  type FrameIssue,
} from './errors.js';
export * from './protocol/index.js';
export * from './tools/index.js';
export type * from './agent/model.js';
export type { TurnEvent, TurnFinishStatus } from './agent/turn-event.js';
export { createOfflineModel, type OfflineModelOptions } from './agent/offline-model.js';
export { runTurn, type TurnDependencies, type ToolExecutor } from './agent/run-turn.js';
export { randomIds, sequentialIds, seededIds, randomSeed, type IdGenerator } from './ids.js';
export { createLogger, type Logger } from './logger.js';
export {
  createAuthenticator,
  type AuthOptions,
  type Authenticator,
} from './server/authenticate.js';
export { RateLimiter, type RateLimiterOptions } from './engine/rate-limiter.js';
export { conversationMachine, type ConversationEffects } from '../actors/conversation.machine.js';
export { connectionMachine, type SocketPort } from '../actors/connection.machine.js';
export { parleyMachine, conversationKey, connectionKey } from '../actors/parley.machine.js';
/** Reaches a connection whether its actor runs or hibernates (use it rather than `system.get`). */
export { sendToConnection } from '../actors/connection-shard.machine.js';
export { createWorkerPool, type WorkerPool, type PoolJob } from '../streams/worker-pool.js';
export { paceTokens } from '../streams/pace-tokens.js';
export { runToolCall, type ToolCallOutcome } from '../streams/run-tool-call.js';
export { deadline } from '../streams/deadline.js';
export { fromAbortableIterable } from '../streams/from-abortable-iterable.js';
export {
  LOG_ENTRY_VERSION,
  logEntrySchema,
  type LogEntry,
  type NewLogEntry,
  type FrameEntry,
  type ReplaySettings,
} from './event-log/log-entry.js';
export type { EventStore, ConversationSummary, FrameRange } from './event-log/event-store.js';
export { createEventLog, type EventLog, type EventLogOptions } from './event-log/event-log.js';
export { MemoryEventStore } from './event-log/memory-store.js';
export {
  SqliteEventStore,
  type SqliteEventStoreOptions,
  type CheckpointResult,
  type CheckpointStats,
} from './event-log/sqlite-store.js';
export {
  WorkerSqliteEventStore,
  type WorkerSqliteEventStoreOptions,
} from './event-log/worker-sqlite-store.js';
export {
  replayRecording,
  type ReplayOptions,
  type ReplayResult,
} from './replay/replay-recording.js';
export {
  parseRecording,
  readRecording,
  formatRecording,
  type Recording,
} from './replay/read-recording.js';
export { exportConversation } from './replay/export-conversation.js';
export { firstDivergence, TIMING_FIELDS, type FrameDivergence } from './replay/compare-frames.js';
export { VirtualClock } from './replay/virtual-clock.js';
