/**
 * Parley's public API: what an application needs to run Parley, give it tools and a model, and
 * handle its errors. Everything else is internal, or on a documented subpath:
 * `parley-engine/client` (the typed client), `parley-engine/protocol` (the wire schemas),
 * `parley-engine/event-log` (stores and the log format), `parley-engine/replay` (recordings) and
 * `parley-engine/engine` (the engine without a WebSocket server, for other transports).
 *
 * @example
 * import { startServer, createDefaultToolRegistry, defineTool } from 'parley-engine';
 * const server = await startServer({ config: { port: 8080 }, tools: createDefaultToolRegistry() });
 */
export {
  startServer,
  attachParley,
  type ParleyServer,
  type StartServerOptions,
} from './server/server.js';
export { createParley, type ParleyHandler, type ParleyOptions } from './server/create-parley.js';
export { loadConfig, CONFIG_VARIABLES, type ParleyConfig, type ConfigOverrides } from './config.js';
export {
  ParleyError,
  toParleyError,
  ERROR_CODES,
  CLOSE_CODES,
  type ErrorCode,
  type CloseCode,
  type FrameIssue,
} from './errors.js';
export * from './tools/index.js';
export type * from './agent/model.js';
export { createOfflineModel, type OfflineModelOptions } from './agent/offline-model.js';
export { createLogger, type Logger } from './logger.js';
export type { EventStore } from './event-log/event-store.js';
export type {
  McpConfig,
  McpServerHealth,
  McpServerState,
  McpServerStatus,
} from './tools/mcp/index.js';
