/**
 * Parley without a listening socket: the engine, the upgrade gate, the socket adapter and the HTTP
 * routes, as handlers an application attaches to its own `http.Server` or `WebSocketServer`.
 * `startServer` is this plus a server of its own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  loadConfig,
  type ConfigFileValues,
  type ConfigOverrides,
  type ParleyConfig,
} from '../config.js';
import { createEngine, unknownAgent, type Engine, type EngineOptions } from '../engine.js';
import { ParleyError, toParleyError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { ParleyMetrics } from '../metrics/parley-metrics.js';
import type { McpConfig } from '../tools/mcp/mcp-config.js';
import { createDefaultToolRegistry } from '../tools/registry.js';
import { attachSocket } from './attach-socket.js';
import { buildAgents, type AgentOptions } from './build-agents.js';
import { createAuthenticator, selectSubprotocol } from './authenticate.js';
import { createForwarder, createInspectionHub, openEventStore } from './from-config.js';
import { isParleyPath, route } from './http-routes.js';
import { startExpiry } from './health.js';
import { INSPECTOR_PATH } from './inspector-access.js';
import type { ReadinessCheck } from './readiness.js';
import { createServerHealth } from './server-health.js';
import { openMcp } from './open-mcp.js';
import { refuseUpgrade } from './refuse-upgrade.js';
import { admitUpgrade, CHAT_PATH_PREFIX, type Admission } from './upgrade-gate.js';
import { validateOptions } from './validate-options.js';
import { allClosed, waitFor } from './wait-for.js';

/** What Parley is built from. Configuration goes in `config`; everything else is a part of it. */
export interface ParleyOptions {
  /**
   * Settings, as the environment's variables give them (README's table) but typed; they win over
   * the environment and are validated by the same schema (`TypeError`/`RangeError` when wrong).
   * @default {}
   */
  config?: ConfigOverrides;
  /** Environment to read configuration from. @default process.env */
  environment?: Record<string, string | undefined>;
  /**
   * Settings from a configuration file (`readConfigFile`), under the environment's: validated by
   * the same schemas, errors naming the file and key. `parley serve` passes
   * `parley.config.json` or the file `PARLEY_CONFIG` names. @default none
   */
  configFile?: ConfigFileValues;
  /** @default a pino logger at `config.logLevel` */
  logger?: Logger;
  /**
   * The language model of the agent `default` (a Parley `LanguageModel`).
   * @default the model `PARLEY_MODEL` names (the offline rule-based model)
   */
  model?: EngineOptions['model'];
  /**
   * Named agents, as in `PARLEY_AGENTS_FILE` (which they replace); each `model` a spec string
   * or a model object (a Parley `LanguageModel` or any AI SDK language model). A conversation
   * picks one with `?agent=<id>` on its first join; `default` (else the first) answers otherwise.
   * @default the agents of `PARLEY_AGENTS_FILE`, or `default` with `PARLEY_MODEL`
   */
  agents?: readonly AgentOptions[];
  /** The tools the agent may call. @default calculator, datetime, weather, search */
  tools?: EngineOptions['tools'];
  /**
   * MCP servers whose tools join `tools` (then a `ToolRegistry`) as `<server>__<tool>`, shaped
   * like an agent's `mcp` (docs/TOOLS_GUIDE.md); closed on shutdown, listed by `/health`.
   */
  mcp?: McpConfig;
  /** Where the event log lives. @default the store `config.database` names */
  store?: EngineOptions['store'];
  /** Serve the chat test page at `/`. @default true for `startServer`, false for `attachParley` */
  chatPage?: boolean;
  /**
   * The engine's other injectable effects: clocks, ids, turn effects, the rate limiter, inspection
   * hooks. For tests, replays and embedding; production needs none of them.
   * @default {}
   */
  effects?: Omit<EngineOptions, 'config' | 'model' | 'tools' | 'store'>;
  /**
   * More checks for `GET /health/ready`, beside Parley's own (`draining`, `event_log`); a check
   * with one of their names replaces it. More can be added later with `addReadinessCheck`.
   * @default []
   */
  readinessChecks?: readonly ReadinessCheck[];
}

/** Parley's handlers, ready to attach to an application's server. */
export interface ParleyHandler {
  readonly config: ParleyConfig;
  readonly engine: Engine;
  readonly logger: Logger;
  /** Answers a request to one of Parley's HTTP routes; false (untouched) for any other path. */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean;
  /**
   * Takes an upgrade to `/ws/chat/{conversation_id}` or `/ws/inspect`: checks it (path, origin,
   * connection cap, credentials) and answers with the HTTP status of a refusal; false (untouched)
   * for any other path.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Serves a socket an application's own `WebSocketServer` already upgraded: the same checks,
   * and a refusal closes it with 1008 and the error code as its reason.
   */
  handleConnection(socket: WebSocket, request: IncomingMessage): void;
  /** Open chat sockets. */
  readonly connections: number;
  /** The server's metrics (`GET /metrics`): its own registry, shared with no other server. */
  readonly metrics: ParleyMetrics;
  /**
   * Adds a check to `GET /health/ready` (a cluster's connection, a store's status); one with the
   * name of an existing check replaces it.
   */
  addReadinessCheck(check: ReadinessCheck): void;
  /** Refuses new connections from now on (shutdown has begun). */
  beginShutdown(): void;
  /** Interrupts turns, closes every socket with 1012, flushes and closes the log. */
  close(): Promise<void>;
}

/**
 * Builds Parley's handlers without listening anywhere.
 *
 * @example
 * const parley = await createParley({ config: { database: 'memory' } });
 * httpServer.on('upgrade', (request, socket, head) => {
 *   if (!parley.handleUpgrade(request, socket, head)) socket.destroy();
 * });
 */
export async function createParley(
  options: ParleyOptions = {},
  defaults: { chatPage: boolean } = { chatPage: false },
): Promise<ParleyHandler> {
  validateOptions(options);
  const { environment = process.env, logger: givenLogger, effects = {} } = options;
  const config = loadConfig(environment, options.config, {
    ...(options.configFile === undefined ? {} : { file: options.configFile }),
  });
  const chatPage = options.chatPage ?? defaults.chatPage;
  const logger = givenLogger ?? createLogger(config.logLevel);
  const authenticator = await createAuthenticator({
    devMode: config.devMode,
    ...(config.jwtSecret === undefined ? {} : { jwtSecret: config.jwtSecret }),
    ...(config.jwtPublicKeyFile === undefined ? {} : { jwtPublicKeyFile: config.jwtPublicKeyFile }),
    ...(config.jwtIssuer === undefined ? {} : { jwtIssuer: config.jwtIssuer }),
    ...(config.jwtAudience === undefined ? {} : { jwtAudience: config.jwtAudience }),
  });
  const tools = options.tools ?? createDefaultToolRegistry();
  const agents = await buildAgents(config, {
    ...(options.agents === undefined ? {} : { agents: options.agents }),
    ...(options.model === undefined ? {} : { model: options.model }),
    modelWasSet:
      (environment.PARLEY_MODEL ?? '') !== '' || options.config?.defaultModel !== undefined,
    toolNames: tools.describe().map((tool) => tool.name),
    logger,
  });
  const store = options.store ?? (await openEventStore(config, logger));
  const hub = await createInspectionHub(config);
  const forwarder = await createForwarder(config);
  const metrics = effects.metrics ?? new ParleyMetrics();
  const mcp = await openMcp(
    { mcp: options.mcp, tools },
    { toolTimeoutMs: config.toolTimeoutMs, logger },
  );
  const inspectors = [effects.inspect, hub?.inspect, forwarder?.inspect].filter(
    (inspect) => inspect !== undefined,
  );
  const engine = createEngine({
    onLogError: (error) => {
      logger.error(
        { error: error instanceof Error ? error.message : String(error) },
        'event log write failed',
      );
    },
    ...effects,
    agents,
    ...(mcp.tools === undefined ? {} : { tools: mcp.tools }),
    ...(inspectors.length === 0
      ? {}
      : {
          inspect: (event) => {
            for (const inspect of inspectors) inspect(event);
          },
        }),
    ...(hub === undefined
      ? {}
      : {
          onPipeline: (path, detail) => {
            effects.onPipeline?.(path, detail);
            hub.pipeline(path, detail);
          },
        }),
    store,
    config,
    metrics,
  });
  const durable = () =>
    new Promise<void>((resolve) => {
      engine.log.afterDurable(() => {
        resolve();
      });
    });
  const inspector =
    hub === undefined
      ? undefined
      : (await import('./inspector-endpoint.js')).createInspectorEndpoint({
          config,
          hub,
          store,
          durable,
          logger,
        });
  let shuttingDown = false;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxFrameBytes,
    perMessageDeflate: false,
    handleProtocols: (offered) => selectSubprotocol(offered),
  });
  const { health, websocketHealth, readiness } = createServerHealth({
    engine,
    config,
    store,
    isShuttingDown: () => shuttingDown,
    openConnections: () => wss.clients.size,
    details: () => ({ mcp_servers: mcp.hub.health() }),
    ...(options.readinessChecks === undefined ? {} : { checks: options.readinessChecks }),
  });
  const stopExpiry = startExpiry(config, engine, logger);
  const gate = (request: IncomingMessage) =>
    admitUpgrade(request, {
      authenticator,
      allowedOrigins: config.allowedOrigins,
      maxConnections: config.maxConnections,
      openConnections: () => wss.clients.size,
      isShuttingDown: () => shuttingDown,
    }).then((admission) => {
      if (admission.agent !== undefined && !engine.agents.has(admission.agent)) {
        throw unknownAgent(admission.agent, engine.agents);
      }
      return admission;
    });
  const attach = (socket: WebSocket, rawSocket: Duplex | undefined, admission: Admission) => {
    attachSocket({
      engine,
      socket,
      ...(rawSocket === undefined ? {} : { rawSocket }),
      userId: admission.userId,
      conversationId: admission.conversationId,
      logger,
      ...(admission.since === undefined ? {} : { since: admission.since }),
      ...(admission.agent === undefined ? {} : { agent: admission.agent }),
    });
  };
  // An error on the raw socket before the upgrade completes must not crash the process. One
  // function for every socket, removed once ws owns the socket: a closure made per upgrade kept
  // each connection's HTTP request (and its headers) alive for the connection's whole life.
  const onUpgradeSocketError = (error: Error) => {
    logger.debug({ error: error.message }, 'upgrade socket error');
  };

  return {
    config,
    engine,
    logger,
    get connections() {
      return wss.clients.size;
    },
    metrics,
    addReadinessCheck(check) {
      readiness.add(check);
    },
    handleRequest(request, response) {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (!isParleyPath(path, { chatPage })) return false;
      void route(request, response, {
        health,
        websocketHealth,
        ready: () => readiness.report(),
        metrics: () => metrics.text(),
        shuttingDown: () => shuttingDown,
        store,
        durable,
        authenticator,
        config,
      });
      return true;
    },
    handleUpgrade(request, socket, head) {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname === INSPECTOR_PATH) {
        socket.on('error', onUpgradeSocketError);
        if (inspector === undefined) {
          refuseUpgrade(
            socket,
            new ParleyError('not_found', 'The inspector is off (set PARLEY_INSPECTOR=1).'),
          );
        } else inspector.upgrade(request, socket, head, url);
        return true;
      }
      if (!url.pathname.startsWith(CHAT_PATH_PREFIX)) return false;
      socket.on('error', onUpgradeSocketError);
      gate(request).then(
        (admission) => {
          if (socket.destroyed) return;
          wss.handleUpgrade(request, socket, head, (ws) => {
            socket.off('error', onUpgradeSocketError);
            attach(ws, socket, admission);
          });
        },
        (error: unknown) => {
          const failure = toParleyError(error);
          metrics.refused(failure.code);
          logger.info({ code: failure.code, reason: failure.message }, 'upgrade refused');
          refuseUpgrade(socket, failure);
        },
      );
      return true;
    },
    handleConnection(socket, request) {
      gate(request).then(
        (admission) => {
          attach(socket, undefined, admission);
        },
        (error: unknown) => {
          const failure = toParleyError(error);
          metrics.refused(failure.code);
          logger.info({ code: failure.code, reason: failure.message }, 'connection refused');
          socket.close(1008, failure.code);
        },
      );
    },
    beginShutdown() {
      shuttingDown = true;
    },
    async close() {
      shuttingDown = true;
      stopExpiry();
      await engine.stop();
      await waitFor(allClosed(wss), 2_000);
      for (const client of wss.clients) client.terminate();
      await engine.dispose();
      // After the turns: a call still running was interrupted with its turn. Stdio servers
      // have exited when this resolves.
      await mcp.hub.close();
      wss.close();
      inspector?.close();
      forwarder?.stop();
    },
  };
}
