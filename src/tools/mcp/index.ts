/**
 * Tools from MCP servers: the per-agent configuration schema, the connections and the tools they
 * register, and the hub that starts, closes and reports on every source of a Parley instance.
 */
export {
  MCP_SERVER_NAME_PATTERN,
  mcpConfigField,
  mcpConfigSchema,
  mcpServerConfigSchema,
  type HttpServerSettings,
  type McpConfig,
  type McpServerSettings,
  type McpSettings,
  type StdioServerSettings,
} from './mcp-config.js';
export { type McpServerState } from './mcp-connection.js';
export { toToolResult, toolErrorMessage, type ToolContentBlock } from './mcp-content.js';
export { McpHub, type McpServerHealth } from './mcp-hub.js';
export { mcpToolName } from './mcp-tool.js';
export {
  McpTools,
  type McpServerStatus,
  type McpToolsOptions,
  type SkippedMcpTool,
} from './mcp-tools.js';
export { DEFAULT_RECONNECT_BACKOFF, type ReconnectBackoff } from './reconnect-delay.js';
