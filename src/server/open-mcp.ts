/**
 * The `mcp` option of `startServer`/`attachParley`: the servers whose tools join `tools`, started
 * before Parley serves (their eager ones) and listed by `/health`. The MCP client loads only
 * when a server is configured, so a Parley without MCP does not carry its code.
 */
import type { EngineOptions } from '../engine.js';
import type { Logger } from '../logger.js';
import type { McpConfig } from '../tools/mcp/mcp-config.js';
import { McpHub } from '../tools/mcp/mcp-hub.js';
import { createDefaultToolRegistry, ToolRegistry } from '../tools/registry.js';

/**
 * The tools the engine gets, and the hub of MCP sources Parley closes and reports on (empty
 * without `mcp`; an agent's servers join it with `hub.add(source, agentId)` and `hub.start()`).
 */
export interface OpenedMcp {
  tools: EngineOptions['tools'];
  hub: McpHub;
}

/**
 * Connects the `mcp` option's servers, registering their tools in `tools` (the built-in
 * registry when absent), and waits for the eager ones (each connects or fails once, bounded by
 * its connect timeout). A bad configuration throws a `TypeError` naming each field.
 *
 * @example
 * const { tools, hub } = await openMcp({ mcp, tools }, { toolTimeoutMs: 10_000, logger });
 */
export async function openMcp(
  options: { mcp?: McpConfig | undefined; tools?: EngineOptions['tools'] },
  settings: { toolTimeoutMs: number; logger: Logger },
): Promise<OpenedMcp> {
  const hub = new McpHub();
  if (options.mcp === undefined) return { tools: options.tools, hub };
  const registry = options.tools ?? createDefaultToolRegistry();
  if (!(registry instanceof ToolRegistry)) {
    throw new TypeError(
      'Option "mcp" needs "tools" to be a ToolRegistry (or absent): the servers\' tools are registered in it.',
    );
  }
  const { McpTools } = await import('../tools/mcp/mcp-tools.js');
  const tools = new McpTools(options.mcp, {
    registry,
    toolTimeoutMs: settings.toolTimeoutMs,
    logger: settings.logger,
  });
  hub.add(tools);
  await hub.start();
  return { tools: registry, hub };
}
