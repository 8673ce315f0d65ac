/**
 * An agent's MCP servers and their tools: a reconnecting connection per configured server, whose
 * tools are kept registered in the agent's `ToolRegistry` as `<server>__<tool>` while the server's
 * list changes, and shut down together.
 */
import type { Logger } from 'pino';
import type { ToolRegistry, ToolSource } from '../registry.js';
import type { AnyTool } from '../tool.js';
import { parseMcpConfig, type McpConfig, type McpServerSettings } from './mcp-config.js';
import { McpConnection, type McpConnectionStatus } from './mcp-connection.js';
import { mcpToolName, toParleyTool } from './mcp-tool.js';
import { DEFAULT_RECONNECT_BACKOFF, type ReconnectBackoff } from './reconnect-delay.js';
import { redactorFor, type Redact } from './redact-secrets.js';

/** Options of {@link McpTools}. */
export interface McpToolsOptions {
  /** The registry the servers' tools are registered in (the agent's). */
  registry: ToolRegistry;
  /** Bounds each tool call; pass Parley's tool timeout. @default 10_000 */
  toolTimeoutMs?: number;
  /** Bounds a server's start (handshake and first tool list) and each liveness ping. @default 10_000 */
  connectTimeoutMs?: number;
  /** Backoff of reconnection attempts. @default { initialMs: 500, maxMs: 30_000, factor: 2 } */
  backoff?: Partial<ReconnectBackoff>;
  /**
   * Where stdio servers' stderr lines go: Parley's stderr, nowhere, or a function (each line has
   * its server's secrets redacted). With a `logger`, the default is the logger at `info`.
   * @default 'inherit'
   */
  stderr?: 'inherit' | 'ignore' | ((server: string, line: string) => void);
  /** Logs connects, losses and reconnection attempts. */
  logger?: Logger;
  /** How Parley introduces itself to the servers. @default { name: 'parley-engine', version: '0.1.0' } */
  clientInfo?: { name: string; version: string };
  /** The clock of `status()` times. @default Date.now */
  now?: () => number;
  /** The jitter of reconnection delays. @default Math.random */
  random?: () => number;
}

/** A server's tool that is not offered to the model, and why. */
export interface SkippedMcpTool {
  /** The tool's name on the server. */
  tool: string;
  reason: string;
}

/** One server's state for `/health`: no command, URL, header or environment value in it. */
export interface McpServerStatus extends McpConnectionStatus {
  name: string;
  transport: 'stdio' | 'http';
  startup: 'eager' | 'lazy';
  /** The Parley names of the tools now registered. */
  tools: string[];
  /** Tools the server offers that cannot be registered (a name that does not fit, a clash). */
  skippedTools: SkippedMcpTool[];
  /** Names in the allow-list the server did not offer when last listed. */
  missingTools: string[];
}

interface Server {
  settings: McpServerSettings;
  connection: McpConnection;
  redact: Redact;
  /** What this server has in the registry: the tool and the definition it was made from. */
  registered: Map<string, { tool: AnyTool; signature: string }>;
  skipped: SkippedMcpTool[];
  missing: string[];
}

/**
 * Connects an agent's MCP servers and keeps their tools in its registry.
 *
 * @example
 * const tools = createDefaultToolRegistry();
 * const mcp = new McpTools({ servers: { files: { command: 'mcp-files' } } }, { registry: tools });
 * await mcp.start(); // eager servers; `await mcp.ready()` before a turn starts lazy ones
 * // … tools.describe() now lists files__read_file …
 * await mcp.close();
 */
export class McpTools {
  readonly #registry: ToolRegistry;
  readonly #servers = new Map<string, Server>();
  readonly #listeners = new Set<(status: McpServerStatus) => void>();
  readonly #logger: Logger | undefined;
  // What the registry asks before a turn describes its tools: nothing, once every server started.
  readonly #source: ToolSource = { ready: () => this.#pendingStart() };
  #starting: Promise<void> | undefined;
  #allStarted = false;

  /** Validates the configuration (a `TypeError` names each bad field); starts nothing. */
  constructor(config: McpConfig, options: McpToolsOptions) {
    const { servers } = parseMcpConfig(config);
    this.#registry = options.registry;
    this.#logger = options.logger;
    const toolTimeoutMs = positive('toolTimeoutMs', options.toolTimeoutMs ?? 10_000);
    const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs ?? 10_000);
    const backoff = { ...DEFAULT_RECONNECT_BACKOFF, ...options.backoff };
    positive('backoff.initialMs', backoff.initialMs);
    positive('backoff.maxMs', backoff.maxMs);
    if (!(backoff.factor >= 1)) throw new RangeError('backoff.factor must be at least 1');
    for (const [name, settings] of Object.entries(servers)) {
      const redact = redactorFor(settings);
      const server: Server = {
        settings,
        redact,
        registered: new Map(),
        skipped: [],
        missing: [],
        connection: new McpConnection({
          name,
          settings,
          toolTimeoutMs,
          connectTimeoutMs,
          backoff,
          clientInfo: options.clientInfo ?? { name: 'parley-engine', version: '0.1.0' },
          onStderr: stderrSink(name, options),
          onChange: () => {
            this.#sync(name, server);
          },
          redact,
          now: options.now ?? Date.now,
          random: options.random ?? Math.random,
          logger: options.logger?.child({ mcp_server: name }),
        }),
      };
      this.#servers.set(name, server);
    }
    this.#registry.addSource(this.#source);
  }

  /**
   * Starts the `eager` servers; resolves when each has connected or failed once (a failed server
   * keeps retrying in the background). Never rejects.
   */
  async start(): Promise<void> {
    const eager = [...this.#servers.values()].filter(
      (server) => server.settings.startup === 'eager',
    );
    await Promise.all(eager.map((server) => server.connection.start()));
    if (eager.length === this.#servers.size) this.#allStarted = true;
  }

  /**
   * Starts every server not started yet, `lazy` ones included, and resolves like {@link start}.
   * Cheap once all have started. The registry's `ready()` calls it before each turn (the engine
   * asks the registry), so a lazy server starts on its agent's first turn.
   */
  async ready(): Promise<void> {
    await this.#pendingStart();
  }

  /** Each server's state, tools and last error, in configuration order. */
  status(): McpServerStatus[] {
    return [...this.#servers.keys()].map((name) => this.#statusOf(name));
  }

  /** Calls `listener` with a server's status after each change of it; returns the unsubscribe. */
  subscribe(listener: (status: McpServerStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Closes every server and removes their tools from the registry. Resolves once every stdio
   * server (and whatever it started in its process group) has exited.
   */
  async close(): Promise<void> {
    this.#registry.removeSource(this.#source);
    await Promise.all([...this.#servers.values()].map((server) => server.connection.close()));
  }

  #pendingStart(): Promise<void> | undefined {
    if (this.#allStarted) return undefined;
    this.#starting ??= Promise.all(
      [...this.#servers.values()].map((server) => server.connection.start()),
    ).then(() => {
      this.#allStarted = true;
    });
    return this.#starting;
  }

  /** Brings the registry in line with a server's current tool list. */
  #sync(name: string, server: Server): void {
    const { connection, settings } = server;
    const wanted = new Map<
      string,
      { definition: (typeof connection.tools)[number]; signature: string }
    >();
    const skipped: SkippedMcpTool[] = [];
    const allowed = settings.tools === undefined ? undefined : new Set(settings.tools);
    if (connection.state !== 'closed') {
      for (const definition of connection.tools) {
        if (allowed !== undefined && !allowed.has(definition.name)) continue;
        const parleyName = mcpToolName(name, definition.name);
        if (parleyName === undefined) {
          skipped.push({
            tool: definition.name,
            reason: `"${name}__${definition.name}" is not a valid tool name: expected 1-64 characters of A-Z, a-z, 0-9, _ and -`,
          });
          continue;
        }
        const signature = JSON.stringify([
          definition.description,
          definition.title,
          definition.inputSchema,
        ]);
        wanted.set(parleyName, { definition, signature });
      }
    }
    for (const [parleyName, entry] of server.registered) {
      if (wanted.get(parleyName)?.signature === entry.signature) continue;
      // Only remove what this server registered; a clash left another tool under that name.
      if (this.#registry.get(parleyName) === entry.tool) this.#registry.unregister(parleyName);
      server.registered.delete(parleyName);
    }
    for (const [parleyName, { definition, signature }] of wanted) {
      if (server.registered.has(parleyName)) continue;
      const tool = toParleyTool(definition, {
        connection,
        name: parleyName,
        needsApproval: needsApproval(settings, definition.name),
        redact: server.redact,
      });
      try {
        this.#registry.register(tool);
        server.registered.set(parleyName, { tool, signature });
      } catch (error) {
        skipped.push({ tool: definition.name, reason: (error as Error).message });
      }
    }
    server.skipped = skipped;
    // While a server is away its last list stands; an allow-list is checked against a fresh one.
    if (connection.state === 'ready' && settings.tools !== undefined) {
      const offered = new Set(connection.tools.map((definition) => definition.name));
      server.missing = settings.tools.filter((tool) => !offered.has(tool));
    }
    const status = this.#statusOf(name);
    for (const listener of this.#listeners) {
      try {
        listener(status);
      } catch (error) {
        // A listener's bug must not break the connection that reported the change.
        this.#logger?.error({ err: error, mcp_server: name }, 'MCP status listener threw');
      }
    }
  }

  #statusOf(name: string): McpServerStatus {
    const server = this.#servers.get(name);
    if (server === undefined) throw new Error(`Unknown MCP server "${name}"`);
    return {
      name,
      transport: server.settings.transport,
      startup: server.settings.startup,
      ...server.connection.status(),
      tools: [...server.registered.keys()],
      skippedTools: server.skipped,
      missingTools: server.missing,
    };
  }
}

function needsApproval(settings: McpServerSettings, tool: string): boolean {
  const { needsApproval: setting } = settings;
  return typeof setting === 'boolean' ? setting : setting.includes(tool);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

function stderrSink(server: string, options: McpToolsOptions): (line: string) => void {
  const { stderr, logger } = options;
  if (typeof stderr === 'function')
    return (line) => {
      stderr(server, line);
    };
  if (stderr === 'ignore') return () => undefined;
  if (stderr === undefined && logger !== undefined) {
    const child = logger.child({ mcp_server: server });
    return (line) => {
      child.info({ line }, 'MCP server stderr');
    };
  }
  return (line) => {
    process.stderr.write(`[mcp ${server}] ${line}\n`);
  };
}
