/**
 * An MCP server's tool as a Parley tool: named `<server>__<tool>`, its JSON Schema handed to the
 * model unchanged, its calls sent to the server with the turn's signal, its results mapped as
 * `mcp-content.ts` documents.
 */
import type { Tool as McpToolDefinition } from '@modelcontextprotocol/client';
import { ParleyError } from '../../errors.js';
import { defineJsonSchemaTool, type JsonSchemaTool } from '../tool.js';
import { toToolResult, toolErrorMessage } from './mcp-content.js';
import type { McpConnection } from './mcp-connection.js';
import type { Redact } from './redact-secrets.js';

/** What function-calling APIs accept as a name; `<server>__<tool>` must fit it. */
const FUNCTION_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * The Parley name of a server's tool, `<server>__<tool>`, or `undefined` when it does not fit a
 * function name (over 64 characters, or characters such as `.` or `/` that MCP allows).
 *
 * @example
 * mcpToolName('files', 'read_file'); // 'files__read_file'
 */
export function mcpToolName(server: string, tool: string): string | undefined {
  const name = `${server}__${tool}`;
  return FUNCTION_NAME_PATTERN.test(name) ? name : undefined;
}

/** What {@link toParleyTool} needs besides the definition. */
export interface McpToolContext {
  connection: McpConnection;
  /** The Parley name, from {@link mcpToolName}. */
  name: string;
  needsApproval: boolean;
  redact: Redact;
}

/**
 * Wraps a tool of a connected MCP server. A result with `isError` rejects with `tool_failed`
 * carrying the tool's own text, which the model reads.
 *
 * @example
 * registry.register(toParleyTool(definition, { connection, name: 'files__read_file', … }));
 */
export function toParleyTool(
  definition: McpToolDefinition,
  { connection, name, needsApproval, redact }: McpToolContext,
): JsonSchemaTool {
  return defineJsonSchemaTool({
    name,
    description:
      definition.description ??
      definition.title ??
      `The ${definition.name} tool of the MCP server "${connection.name}".`,
    inputSchema: definition.inputSchema,
    needsApproval,
    execute: async (parameters, { signal }) => {
      const result = await connection.callTool(definition.name, parameters, signal, name);
      if (result.isError === true) {
        throw new ParleyError('tool_failed', redact(toolErrorMessage(result)));
      }
      return toToolResult(result);
    },
  });
}
