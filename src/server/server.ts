/**
 * The HTTP + WebSocket server: routes (`/`, `/health`, `/health/ws`), the upgrade gate, the
 * socket adapter, and graceful shutdown.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { loadConfig, type ConfigOverrides, type ParleyConfig } from '../config.js';
import { createEngine, type Engine, type EngineOptions } from '../engine.js';
import { ParleyError, toParleyError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { attachSocket } from './attach-socket.js';
import { createAuthenticator, selectSubprotocol } from './authenticate.js';
import { createForwarder, createInspectionHub, openEventStore } from './from-config.js';
import { route } from './http-routes.js';
import { INSPECTOR_PATH } from './inspector-access.js';
import { refuseUpgrade } from './refuse-upgrade.js';
import { admitUpgrade } from './upgrade-gate.js';

/** Options for {@link startServer}: config overrides plus the engine's injectable effects. */
export type StartServerOptions = ConfigOverrides &
  Omit<EngineOptions, 'config'> & {
    /** Environment to read configuration from. @default process.env */
    environment?: Record<string, string | undefined>;
    logger?: Logger;
  };

/** A running server. */
export interface ParleyServer {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  readonly config: ParleyConfig;
  readonly engine: Engine;
  /**
   * Graceful shutdown: refuse new connections, let running turns finish within
   * `shutdownGraceMs`, interrupt the rest, close every socket with 1012, stop listening.
   */
  close(): Promise<void>;
}

/**
 * Starts a Parley server.
 *
 * @example
 * const server = await startServer({ port: 0 });
 * console.log(server.url);
 * await server.close();
 */
export async function startServer(options: StartServerOptions = {}): Promise<ParleyServer> {
  const { environment = process.env, logger: givenLogger, ...rest } = options;
  const overrides = pickConfig(rest);
  const config = loadConfig(environment, overrides);
  const logger = givenLogger ?? createLogger(config.logLevel);
  const authenticator = await createAuthenticator({
    devMode: config.devMode,
    ...(config.jwtSecret === undefined ? {} : { jwtSecret: config.jwtSecret }),
    ...(config.jwtPublicKeyFile === undefined ? {} : { jwtPublicKeyFile: config.jwtPublicKeyFile }),
    ...(config.jwtIssuer === undefined ? {} : { jwtIssuer: config.jwtIssuer }),
    ...(config.jwtAudience === undefined ? {} : { jwtAudience: config.jwtAudience }),
  });
  const store = rest.store ?? (await openEventStore(config, logger));
  const hub = await createInspectionHub(config);
  const forwarder = await createForwarder(config);
  const engineOptions = pickEngine(rest);
  const inspectors = [engineOptions.inspect, hub?.inspect, forwarder?.inspect].filter(
    (inspect) => inspect !== undefined,
  );
  const engine = createEngine({
    onLogError: (error) => {
      logger.error(
        { error: error instanceof Error ? error.message : String(error) },
        'event log write failed',
      );
    },
    ...engineOptions,
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
            hub.pipeline(path, detail);
          },
        }),
    store,
    config,
  });
  const durable = () =>
    new Promise<void>((resolve) => {
      engine.log.afterDurable(resolve);
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
  const startedAt = Date.now();
  let shuttingDown = false;

  const health = () => ({
    status: shuttingDown ? 'shutting_down' : 'ok',
    uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
    ...engine.stats(),
  });

  const httpServer = createServer((request, response) => {
    void route(request, response, {
      health,
      shuttingDown: () => shuttingDown,
      store,
      durable,
      authenticator,
      config,
    });
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxFrameBytes,
    perMessageDeflate: false,
    handleProtocols: (offered) => selectSubprotocol(offered),
  });

  // An error on the raw socket before the upgrade completes must not crash the process. One
  // function for every socket, removed once ws owns the socket: a closure made per upgrade kept
  // each connection's HTTP request (and its headers) alive for the connection's whole life.
  const onUpgradeSocketError = (error: Error) => {
    logger.debug({ error: error.message }, 'upgrade socket error');
  };

  httpServer.on('upgrade', (request: IncomingMessage, socket, head) => {
    socket.on('error', onUpgradeSocketError);
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === INSPECTOR_PATH) {
      if (inspector === undefined) {
        refuseUpgrade(
          socket,
          new ParleyError('not_found', 'The inspector is off (set PARLEY_INSPECTOR=1).'),
        );
      } else inspector.upgrade(request, socket, head, url);
      return;
    }
    admitUpgrade(request, {
      authenticator,
      allowedOrigins: config.allowedOrigins,
      maxConnections: config.maxConnections,
      openConnections: () => wss.clients.size,
      isShuttingDown: () => shuttingDown,
    }).then(
      ({ userId, conversationId, since }) => {
        if (socket.destroyed) return;
        wss.handleUpgrade(request, socket, head, (ws) => {
          socket.off('error', onUpgradeSocketError);
          attachSocket({
            engine,
            socket: ws,
            rawSocket: socket,
            userId,
            conversationId,
            logger,
            ...(since === undefined ? {} : { since }),
          });
        });
      },
      (error: unknown) => {
        const failure = toParleyError(error);
        logger.info({ code: failure.code, reason: failure.message }, 'upgrade refused');
        refuseUpgrade(socket, failure);
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info(
    { port, host: config.host, dev_mode: config.devMode, token_pacing_ms: config.tokenPacingMs },
    'parley listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    config,
    engine,
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        httpServer.close();
        const running = engine.pool.running + engine.pool.waiting;
        logger.info({ running_turns: running, grace_ms: config.shutdownGraceMs }, 'shutting down');
        await waitFor(engine.pool.whenIdle(), config.shutdownGraceMs);
        await engine.stop();
        await waitFor(allClosed(wss), 2_000);
        for (const client of wss.clients) client.terminate();
        await engine.dispose();
        wss.close();
        inspector?.close();
        forwarder?.stop();
        httpServer.closeAllConnections();
        logger.info('shutdown complete');
      })();
      return closing;
    },
  };
}

function waitFor(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function allClosed(wss: WebSocketServer): Promise<void> {
  const pending = [...wss.clients].map(
    (client) =>
      new Promise<void>((resolve) => {
        client.once('close', () => {
          resolve();
        });
      }),
  );
  return Promise.all(pending).then(() => undefined);
}

const ENGINE_KEYS = [
  'store',
  'model',
  'tools',
  'now',
  'scheduler',
  'clock',
  'idSeed',
  'nextConnectionId',
  'inspect',
  'onLogError',
  'onPipeline',
] as const;

function pickEngine(options: Record<string, unknown>): Omit<EngineOptions, 'config'> {
  return Object.fromEntries(
    ENGINE_KEYS.filter((key) => options[key] !== undefined).map((key) => [key, options[key]]),
  );
}

function pickConfig(options: Record<string, unknown>): ConfigOverrides {
  return Object.fromEntries(
    Object.entries(options).filter(
      ([key, value]) => value !== undefined && !(ENGINE_KEYS as readonly string[]).includes(key),
    ),
  );
}
