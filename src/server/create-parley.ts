/**
 * Parley without a listening socket: the engine, the upgrade gate, the socket adapter and the HTTP
 * routes, as handlers an application attaches to its own `http.Server` or `WebSocketServer`.
 * `startServer` is this plus a server of its own.
 *
 * Over 300 lines because it wires every server-side concern once (authentication, access, the
 * upgrade gate with its connection slots, token expiry, limits, health): split, each part would
 * need the others' closures passed back in.
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
import { CLOSE_CODES, ParleyError, toParleyError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { ParleyMetrics } from '../metrics/parley-metrics.js';
import { createAccess, type AuthorizeHook } from './access.js';
import { attachSocket, type CredentialRenewal } from './attach-socket.js';
import { TokenExpiry } from './token-expiry.js';
import { createUserLimits } from './user-limits.js';
import {
  createAuthenticator,
  JWT_CLOCK_TOLERANCE_SECONDS,
  selectSubprotocol,
} from './authenticate.js';
import type { McpConfig } from '../tools/mcp/mcp-config.js';
import { createDefaultToolRegistry } from '../tools/registry.js';
import { buildAgents, providerEnvironment, type AgentOptions } from './build-agents.js';
import { ModelThread } from '../providers/model-thread.js';
import { createForwarder, createInspectionHub, openEventStore } from './from-config.js';
import { isParleyPath, route } from './http-routes.js';
import { startExpiry } from './health.js';
import { INSPECTOR_PATH } from './inspector-access.js';
import type { ReadinessCheck } from './readiness.js';
import { clusterReadiness } from './cluster-readiness.js';
import { createServerHealth } from './server-health.js';
import { openMcp } from './open-mcp.js';
import { refuseUpgrade } from './refuse-upgrade.js';
import { admitUpgrade, CHAT_PATH_PREFIX, type Admission } from './upgrade-gate.js';
import { validateOptions } from './validate-options.js';
import { allClosed, waitFor } from './wait-for.js';
import type { ClusterNode, ClusterStatus } from '../cluster/cluster-node.js';
import type { ClusterRuntime } from '../cluster/start-cluster.js';

/** The cluster part of `/health`: counts, not every conversation. */
function clusterSummary(status: ClusterStatus) {
  return {
    instance_id: status.instance_id,
    redis: status.redis,
    postgres: status.postgres,
    owned: status.conversations.filter((item) => item.role === 'owner').length,
    followed: status.conversations.filter((item) => item.role === 'follower').length,
  };
}

/**
 * The conversation API's writes in cluster mode: member changes (and creation) go to the
 * conversation's owner through the cluster node. Deleting a whole conversation is refused: its
 * Redis frame stream and its followers would go on from the old seq while the id started again at
 * 1 (docs/SCALING.md, known gaps).
 */
function clusterConversationWrites(node: ClusterNode) {
  return {
    changeMembership: node.changeMembership.bind(node),
    deleteConversation: (conversationId: string): Promise<number> =>
      Promise.reject(
        new ParleyError(
          'method_not_allowed',
          `Deleting a conversation (${conversationId}) is not available in cluster mode yet; remove its members instead.`,
        ),
      ),
  };
}

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
   * The application's own access rule, asked before the built-in ones for every conversation
   * read and write: `true` allows, `false` denies (as if the conversation did not exist),
   * `undefined` leaves it to the built-in rules (docs/SECURITY.md). Over a WebSocket it is asked
   * once, at the upgrade, and its answer holds for the connection.
   * @default none: the built-in rules alone
   * @example
   * startServer({ authorize: async ({ user, conversationId }) => (await acl.allows(user.userId, conversationId)) || undefined });
   */
  authorize?: AuthorizeHook;
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
  /**
   * Cluster mode only: this instance, the conversations it owns and follows with each one's
   * owner, and whether Redis and PostgreSQL answer (for `/health/ready` and the inspector).
   */
  readonly clusterStatus?: () => ClusterStatus;
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
  const modelThread =
    config.modelThread === 'worker'
      ? new ModelThread(providerEnvironment(config), logger)
      : undefined;
  const agents = await buildAgents(config, {
    ...(modelThread === undefined ? {} : { modelThread }),
    ...(options.agents === undefined ? {} : { agents: options.agents }),
    ...(options.model === undefined ? {} : { model: options.model }),
    modelWasSet:
      (environment.PARLEY_MODEL ?? '') !== '' || options.config?.defaultModel !== undefined,
    toolNames: tools.describe().map((tool) => tool.name),
    logger,
  });
  let cluster: ClusterRuntime | undefined;
  const store =
    options.store ??
    (await openEventStore(config, logger, { cluster: config.redisUrl !== undefined }));
  if (config.redisUrl !== undefined) {
    const { createCluster } = await import('../cluster/start-cluster.js');
    cluster = createCluster(config, store, logger);
  }
  const hub = await createInspectionHub(config);
  const forwarder = await createForwarder(config);
  const metrics = effects.metrics ?? new ParleyMetrics();
  const mcp = await openMcp(
    { mcp: options.mcp, tools, agents },
    { toolTimeoutMs: config.toolTimeoutMs, logger },
  );
  const inspectors = [effects.inspect, hub?.inspect, forwarder?.inspect].filter(
    (inspect) => inspect !== undefined,
  );
  const engine = createEngine({
    onLogError: (error) => {
      // Cluster mode: PostgreSQL holds a newer epoch, so another instance owns these now.
      if (error instanceof ParleyError && error.code === 'cluster_fenced') {
        const ids = error.details?.conversation_ids;
        if (Array.isArray(ids)) cluster?.node.onFenced(ids.map(String));
      }
      logger.error(
        { error: error instanceof Error ? error.message : String(error) },
        'event log write failed',
      );
    },
    ...effects,
    agents: mcp.agents,
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
    ...(cluster === undefined ? {} : { onFrameDurable: cluster.node.onFrameDurable }),
    store,
    config,
    metrics,
  });
  cluster?.node.start(engine);
  const clusterNode = cluster?.node;
  /** What the socket adapter opens connections through: the cluster's routing, or the engine. */
  const connections =
    clusterNode === undefined
      ? engine
      : {
          config,
          metrics: engine.metrics,
          // Replies to this instance's own sockets (`authenticated`), whoever owns the conversation.
          reply: (connectionId: string, body: Parameters<Engine['reply']>[1]) => {
            engine.reply(connectionId, body);
          },
          openConnection: (opening: Parameters<ClusterNode['openConnection']>[0]) =>
            clusterNode.openConnection(opening),
        };
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
          authenticator,
        });
  const access = createAccess({
    mode: config.access,
    authorize: options.authorize,
    conversationInfo: (conversationId) => engine.conversationInfo(conversationId),
  });
  const userLimits = createUserLimits({
    createdPerHour: config.userConversationsPerHour,
    live: config.userLiveConversations,
    isLive: (conversationId) => engine.currentSeq(conversationId) !== undefined,
  });
  let shuttingDown = false;
  /** Upgrades past the cap check whose socket is not open yet (see `reserveSlot`). */
  let reservedSlots = 0;
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
    details: () => ({
      mcp_servers: mcp.hub.health(),
      ...(clusterNode === undefined ? {} : { cluster: clusterSummary(clusterNode.status()) }),
    }),
    checks: [
      ...(clusterNode === undefined ? [] : [clusterReadiness(clusterNode)]),
      ...(options.readinessChecks ?? []),
    ],
  });
  const stopExpiry = startExpiry(config, engine, logger);
  const stopLeaseMetrics = clusterNode && metrics.observeLeases(clusterNode.leaseEvents$);
  const gate = (request: IncomingMessage) =>
    admitUpgrade(request, {
      authenticator,
      allowedOrigins: config.allowedOrigins,
      maxConnections: config.maxConnections,
      // Counted before the credentials are checked: with the slot taken only once the socket is
      // open, concurrent upgrades all passed the check while their tokens were being verified.
      reserveSlot: () => {
        if (wss.clients.size + reservedSlots >= config.maxConnections) return undefined;
        reservedSlots += 1;
        let held = true;
        return () => {
          if (!held) return;
          held = false;
          reservedSlots -= 1;
        };
      },
      access,
      admitCreation: (userId, conversationId) => {
        userLimits.admitCreation(userId, conversationId);
      },
      isShuttingDown: () => shuttingDown,
    }).then((admission) => {
      if (admission.agent !== undefined && !engine.agents.has(admission.agent)) {
        throw unknownAgent(admission.agent, engine.agents);
      }
      return admission;
    });
  // A socket outlived its token: 8 s after `exp` a message was still accepted (issue 14). Each
  // JWT socket is closed with 4401 once its token (and the verifier's clock tolerance) has passed.
  const tokenExpiry = new TokenExpiry<WebSocket>({
    onExpired: (socket) => {
      socket.close(CLOSE_CODES.token_expired, 'token_expired');
    },
  });
  const expiresAtMs = (expiresAt: number) => (expiresAt + JWT_CLOCK_TOLERANCE_SECONDS) * 1000;
  const credentials: CredentialRenewal = {
    async renew(socket, connection, token) {
      let user;
      try {
        user = await authenticator.verifyToken(token);
      } catch (error) {
        return { ok: false, code: 'unauthorized', message: toParleyError(error).message };
      }
      if (user.userId !== connection.userId) {
        return {
          ok: false,
          code: 'unauthorized',
          message: `the new token is for ${user.userId}, this connection for ${connection.userId}`,
        };
      }
      try {
        await access.require(user, connection.conversationId, 'read');
      } catch {
        return {
          ok: false,
          code: 'membership_revoked',
          message: 'the new token does not grant this conversation',
        };
      }
      if (user.expiresAt === undefined) {
        return { ok: false, code: 'unauthorized', message: 'token is missing the exp claim' };
      }
      if (socket.readyState === socket.OPEN) tokenExpiry.track(socket, expiresAtMs(user.expiresAt));
      return { ok: true, userId: user.userId, expiresAt: expiresAtMs(user.expiresAt) };
    },
  };
  const untrack = function (this: WebSocket) {
    tokenExpiry.untrack(this);
  };
  const attach = (socket: WebSocket, rawSocket: Duplex | undefined, admission: Admission) => {
    if (admission.user.expiresAt !== undefined) {
      tokenExpiry.track(socket, expiresAtMs(admission.user.expiresAt));
      socket.once('close', untrack);
    }
    attachSocket({
      credentials,
      engine: connections,
      socket,
      ...(rawSocket === undefined ? {} : { rawSocket }),
      userId: admission.userId,
      conversationId: admission.conversationId,
      logger,
      ...(admission.since === undefined ? {} : { since: admission.since }),
      ...(admission.role === undefined ? {} : { role: admission.role }),
      ...(admission.readOnly === undefined ? {} : { readOnly: admission.readOnly }),
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
    ...(clusterNode === undefined ? {} : { clusterStatus: () => clusterNode.status() }),
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
        access,
        engine,
        userLimits,
        config,
        ...(clusterNode === undefined
          ? {}
          : {
              clusterStatus: () => clusterNode.status(),
              conversationWrites: clusterConversationWrites(clusterNode),
            }),
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
          if (socket.destroyed) {
            admission.releaseSlot();
            return;
          }
          // ws may abort the handshake itself (a bad key header): the slot goes back with the socket.
          socket.once('close', admission.releaseSlot);
          wss.handleUpgrade(request, socket, head, (ws) => {
            // ws counts the socket in `clients` before this callback: the slot is no longer needed.
            admission.releaseSlot();
            socket.off('close', admission.releaseSlot);
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
          admission.releaseSlot();
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
      // Other instances' participants stay connected there; they move to the next owner.
      clusterNode?.beginDrain();
      stopExpiry();
      stopLeaseMetrics?.unsubscribe();
      await engine.stop();
      await waitFor(allClosed(wss), 2_000);
      for (const client of wss.clients) client.terminate();
      // Only once the last frames are logged and published are the leases released.
      await engine.log.flush();
      await clusterNode?.close();
      cluster?.disconnect();
      await engine.dispose();
      // After the turns: a call still running was interrupted with its turn. Stdio servers
      // have exited when this resolves.
      await mcp.hub.close();
      await modelThread?.close();
      wss.close();
      tokenExpiry.stop();
      inspector?.close();
      forwarder?.stop();
    },
  };
}
