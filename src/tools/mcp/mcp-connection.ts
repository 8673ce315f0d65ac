/**
 * Over 300 lines because it is one MCP server's whole connection life: connect, reconnect with backoff, tool-list changes.
 *
 * One configured MCP server's connection: an official MCP `Client` over its transport, the tools
 * it offers, and its recovery. A server that crashes, exits, drops its session or stops answering
 * is reconnected with backoff, with a fresh client and (for stdio) a fresh process; meanwhile its
 * calls fail with `tool_unavailable`. Each connect attempt lists the tools again, and
 * `notifications/tools/list_changed` refreshes them while connected.
 */
import type { CallToolResult, Tool as McpToolDefinition } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import { failureScope, toCallError, unavailable } from './mcp-call-error.js';
import type { McpServerSettings } from './mcp-config.js';
import {
  CONNECTION_CLOSED,
  describeSessionFailure,
  openMcpSession,
  type McpSession,
} from './mcp-session.js';
import { reconnectDelay, type ReconnectBackoff } from './reconnect-delay.js';
import type { Redact } from './redact-secrets.js';

/**
 * Where a connection stands: `idle` (a lazy server not started yet), `connecting` (first
 * attempt), `ready`, `reconnecting` (after a failure; waiting for or making the next attempt),
 * `closed`.
 */
export type McpServerState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed';

/** Options of {@link McpConnection}; {@link McpTools} fills them from its own. */
export interface McpConnectionOptions {
  name: string;
  settings: McpServerSettings;
  /** Bounds every `tools/call` (the SDK's own default would be 60 s). */
  toolTimeoutMs: number;
  /** Bounds the handshake plus the first `tools/list`, and each liveness ping. */
  connectTimeoutMs: number;
  backoff: ReconnectBackoff;
  clientInfo: { name: string; version: string };
  /** Gets each line a stdio server writes to stderr, secrets redacted. */
  onStderr: (line: string) => void;
  /** Called after every change of state or of the tool list. */
  onChange: () => void;
  redact: Redact;
  now: () => number;
  random: () => number;
  logger?: Logger | undefined;
}

/** A connection's health, free of secrets. */
export interface McpConnectionStatus {
  state: McpServerState;
  /** Failed attempts (and losses) since the connection was last ready. */
  failedAttempts: number;
  /** Why the last attempt failed or the connection was lost. */
  lastError?: string;
  /** When the next attempt starts (epoch ms), while reconnecting. */
  nextAttemptAt?: number;
  /** When the current connection became ready (epoch ms). */
  connectedAt?: number;
  /** The pid of the stdio guard process, while it runs. */
  pid?: number;
}

/** A session, and the attempt it belongs to. */
interface Session extends McpSession {
  generation: number;
}

/**
 * A reconnecting MCP client for one server.
 *
 * @example
 * const connection = new McpConnection(options);
 * await connection.start();
 * const result = await connection.callTool('read_file', { path: '/a' }, signal);
 */
export class McpConnection {
  readonly #options: McpConnectionOptions;
  #state: McpServerState = 'idle';
  #tools: readonly McpToolDefinition[] = [];
  #session: Session | undefined;
  // Bumped whenever a session ends, so late callbacks of an old client are ignored.
  #generation = 0;
  #failedAttempts = 0;
  #lastError: string | undefined;
  #connectedAt: number | undefined;
  #nextAttemptAt: number | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #started: Promise<void> | undefined;
  #probing = false;
  readonly #closing = new Set<Promise<void>>();

  constructor(options: McpConnectionOptions) {
    this.#options = options;
  }

  /** The configured server name. */
  get name(): string {
    return this.#options.name;
  }

  /** Where the connection stands. */
  get state(): McpServerState {
    return this.#state;
  }

  /** The server's tools as last listed (kept while reconnecting; empty before the first list). */
  get tools(): readonly McpToolDefinition[] {
    return this.#tools;
  }

  /**
   * Starts the connection once; resolves when the first attempt has succeeded or failed (a
   * failure is retried in the background and shows in {@link status}). Never rejects.
   */
  start(): Promise<void> {
    this.#started ??= this.#attempt();
    return this.#started;
  }

  /**
   * Calls a tool of the server. `signal` cancels it (MCP `notifications/cancelled` is sent); the
   * tool timeout bounds it the same way. Rejects with the signal's reason once it has aborted,
   * otherwise with a `ParleyError` (`tool_unavailable` when the server is not connected or is
   * lost during the call, `tool_timeout`, `invalid_tool_arguments`, `tool_failed`).
   */
  async callTool(
    tool: string,
    parameters: Record<string, unknown>,
    signal: AbortSignal,
    parleyName: string,
  ): Promise<CallToolResult> {
    const session = this.#session;
    if (this.#state !== 'ready' || session === undefined) {
      throw unavailable(this.name, this.#unavailableReason());
    }
    const { toolTimeoutMs: timeoutMs } = this.#options;
    try {
      return await session.client.callTool(
        { name: tool, arguments: parameters },
        // maxTotalTimeout too: progress notifications must not stretch a call past Parley's limit.
        { signal, timeout: timeoutMs, maxTotalTimeout: timeoutMs },
      );
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const scope = failureScope(error);
      if (scope === 'lost') {
        this.#lose(session.generation, error);
        throw unavailable(this.name, this.#unavailableReason(), error);
      }
      if (scope === 'suspect') this.#probe(session.generation);
      throw toCallError(error, {
        server: this.name,
        tool: parleyName,
        timeoutMs,
        redact: this.#options.redact,
      });
    }
  }

  /** The connection's health, free of secrets. */
  status(): McpConnectionStatus {
    const pid = this.#session?.transport.pid() ?? null;
    return {
      state: this.#state,
      failedAttempts: this.#failedAttempts,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
      ...(this.#nextAttemptAt === undefined ? {} : { nextAttemptAt: this.#nextAttemptAt }),
      ...(this.#connectedAt === undefined ? {} : { connectedAt: this.#connectedAt }),
      ...(pid === null ? {} : { pid }),
    };
  }

  /**
   * Closes the connection for good: no more attempts, the HTTP session ended, the stdio server
   * and its process group stopped. Resolves once every process this connection started is gone.
   */
  async close(): Promise<void> {
    if (this.#state !== 'closed') {
      this.#generation += 1;
      clearTimeout(this.#retryTimer);
      this.#nextAttemptAt = undefined;
      const session = this.#session;
      this.#session = undefined;
      if (session !== undefined) this.#endSession(session, true);
      this.#setState('closed');
    }
    await Promise.all(this.#closing);
  }

  async #attempt(): Promise<void> {
    if (this.#state === 'closed') return;
    const generation = ++this.#generation;
    this.#retryTimer = undefined;
    this.#nextAttemptAt = undefined;
    this.#setState(this.#failedAttempts === 0 ? 'connecting' : 'reconnecting');
    const session = this.#openSession(generation);
    const { connectTimeoutMs } = this.#options;
    try {
      await session.client.connect(session.transport.transport, { timeout: connectTimeoutMs });
      const { tools } = await session.client.listTools(undefined, { timeout: connectTimeoutMs });
      if (generation !== this.#generation) return;
      this.#tools = tools;
      this.#failedAttempts = 0;
      this.#lastError = undefined;
      this.#connectedAt = this.#options.now();
      this.#options.logger?.info({ tools: tools.length }, 'MCP server connected');
      this.#setState('ready');
    } catch (error) {
      this.#lose(generation, error);
    }
  }

  #openSession(generation: number): Session {
    const { settings, clientInfo, redact, onStderr } = this.#options;
    const current = () => generation === this.#generation;
    const session = openMcpSession(
      { settings, clientInfo, redact, onStderr },
      {
        toolsChanged: (tools) => {
          if (!current()) return;
          this.#tools = tools;
          this.#options.onChange();
        },
        closed: () => {
          this.#lose(generation, new Error(CONNECTION_CLOSED));
        },
        // Out of band (an SSE stream that dropped, a POST or a list that failed): is it there?
        failed: (error) => {
          if (failureScope(error) === 'lost') this.#lose(generation, error);
          else this.#probe(generation);
        },
      },
    );
    // The same object, not a copy: the session keeps writing its clues into it.
    const tracked: Session = Object.assign(session, { generation });
    this.#session = tracked;
    return tracked;
  }

  /** Asks a ready server for a ping; no answer in time means it is lost. */
  #probe(generation: number): void {
    const session = this.#session;
    if (generation !== this.#generation || this.#state !== 'ready' || this.#probing) return;
    if (session === undefined) return;
    this.#probing = true;
    session.client
      .ping({ timeout: this.#options.connectTimeoutMs })
      .catch((error: unknown) => {
        this.#lose(generation, error);
      })
      .finally(() => {
        this.#probing = false;
      });
  }

  /** Ends the current session after a failure and schedules the next attempt. */
  #lose(generation: number, error: unknown): void {
    if (generation !== this.#generation || this.#state === 'closed') return;
    this.#generation += 1;
    const session = this.#session;
    this.#session = undefined;
    if (session !== undefined) this.#endSession(session, false);
    this.#failedAttempts += 1;
    this.#lastError = describeSessionFailure(error, session, this.#options.redact);
    const delay = reconnectDelay(this.#failedAttempts, this.#options.backoff, this.#options.random);
    this.#nextAttemptAt = this.#options.now() + delay;
    this.#retryTimer = setTimeout(() => {
      void this.#attempt();
    }, delay);
    this.#options.logger?.warn(
      { error: this.#lastError, failed_attempts: this.#failedAttempts, retry_in_ms: delay },
      'MCP server unavailable; reconnecting',
    );
    this.#setState('reconnecting');
  }

  #endSession(session: Session, politely: boolean): void {
    const closing = (async () => {
      // Only a deliberate close says goodbye; a lost server would not hear it.
      if (politely) await session.transport.terminate();
      await session.client.close().catch(() => undefined);
    })();
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
  }

  #unavailableReason(): string {
    switch (this.#state) {
      case 'idle':
        return 'not started';
      case 'connecting':
        return 'still starting';
      case 'reconnecting':
        return `reconnecting after ${String(this.#failedAttempts)} failed attempt(s): ${this.#lastError ?? 'unknown error'}`;
      case 'ready':
        return 'no session';
      case 'closed':
        return 'closed';
    }
  }

  #setState(state: McpServerState): void {
    this.#state = state;
    this.#options.onChange();
  }
}
