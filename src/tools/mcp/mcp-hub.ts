/**
 * Every MCP source of one Parley instance (the `mcp` option's, and one per agent that names
 * servers): started together when Parley starts, closed together when it shuts down, and listed
 * together by `/health`.
 */
import type { McpServerStatus, McpTools } from './mcp-tools.js';

/** One MCP server as `GET /health` lists it: no command, URL, header or environment value. */
export interface McpServerHealth {
  /** The agent whose tools the server serves; absent for the `mcp` option's servers. */
  agent?: string;
  name: string;
  transport: 'stdio' | 'http';
  startup: 'eager' | 'lazy';
  state: McpServerStatus['state'];
  /** How many of its tools are registered now. */
  tools: number;
  failed_attempts: number;
  last_error?: string;
  /** When the next reconnection attempt starts (epoch ms), while reconnecting. */
  next_attempt_at?: number;
  /** When the current connection became ready (epoch ms). */
  connected_at?: number;
  /** Allow-listed tools the server did not offer. */
  missing_tools?: string[];
  /** The server's tools left out, with the reason (a name that does not fit, a clash). */
  skipped_tools?: { tool: string; reason: string }[];
}

/**
 * The MCP sources of a Parley instance.
 *
 * @example
 * const hub = new McpHub();
 * hub.add(new McpTools(config.mcp, { registry }), 'support');
 * await hub.start(); // eager servers
 * hub.health(); // for /health
 * await hub.close(); // on shutdown: every stdio server has exited when it resolves
 */
export class McpHub {
  readonly #sources: { agent: string | undefined; tools: McpTools }[] = [];

  /** Adds a source, labelled with the agent it serves (none for the `mcp` option's). */
  add(tools: McpTools, agent?: string): this {
    this.#sources.push({ agent, tools });
    return this;
  }

  /** Whether any source was added. */
  get size(): number {
    return this.#sources.length;
  }

  /**
   * Starts every source's `eager` servers; resolves when each has connected or failed once
   * (bounded by its connect timeout; a failed one keeps retrying). Never rejects.
   */
  async start(): Promise<void> {
    await Promise.all(this.#sources.map((source) => source.tools.start()));
  }

  /** Closes every source; resolves once every stdio server (and its process group) has exited. */
  async close(): Promise<void> {
    await Promise.all(this.#sources.map((source) => source.tools.close()));
  }

  /** Every server of every source, in the order they were added and configured. */
  health(): McpServerHealth[] {
    return this.#sources.flatMap(({ agent, tools }) =>
      tools.status().map((status) => toHealth(status, agent)),
    );
  }
}

function toHealth(status: McpServerStatus, agent: string | undefined): McpServerHealth {
  return {
    ...(agent === undefined ? {} : { agent }),
    name: status.name,
    transport: status.transport,
    startup: status.startup,
    state: status.state,
    tools: status.tools.length,
    failed_attempts: status.failedAttempts,
    ...(status.lastError === undefined ? {} : { last_error: status.lastError }),
    ...(status.nextAttemptAt === undefined ? {} : { next_attempt_at: status.nextAttemptAt }),
    ...(status.connectedAt === undefined ? {} : { connected_at: status.connectedAt }),
    ...(status.missingTools.length === 0 ? {} : { missing_tools: status.missingTools }),
    ...(status.skippedTools.length === 0 ? {} : { skipped_tools: status.skippedTools }),
  };
}
