/**
 * `startServer`: Parley on an HTTP server of its own, with graceful shutdown; and `attachParley`,
 * Parley on an application's existing `http.Server` or `WebSocketServer`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { ParleyConfig } from '../config.js';
import type { Engine } from '../engine.js';
import { ParleyError } from '../errors.js';
import { createParley, waitFor, type ParleyHandler, type ParleyOptions } from './create-parley.js';
import { refuseUpgrade } from './refuse-upgrade.js';
import { CHAT_PATH_PREFIX } from './upgrade-gate.js';

/** Options for {@link startServer}. */
export type StartServerOptions = ParleyOptions;

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
 * Starts a Parley server on its own HTTP server: the chat endpoint, the chat page at `/`, health,
 * the log API and (in development mode) the inspector.
 *
 * @example
 * const server = await startServer({ config: { port: 0 }, tools });
 * console.log(server.url);
 * await server.close();
 */
export async function startServer(options: StartServerOptions = {}): Promise<ParleyServer> {
  const parley = await createParley(options, { chatPage: true });
  const { config, engine, logger } = parley;
  const httpServer = createServer((request, response) => {
    if (!parley.handleRequest(request, response)) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ code: 'not_found', message: `No route for ${request.url ?? '/'}.` }),
      );
    }
  });
  httpServer.on('upgrade', (request, socket, head) => {
    if (!parley.handleUpgrade(request, socket, head)) {
      socket.on('error', () => undefined);
      refuseUpgrade(
        socket,
        new ParleyError(
          'not_found',
          `No WebSocket endpoint at ${request.url ?? '/'}; use ${CHAT_PATH_PREFIX}{conversation_id}.`,
        ),
      );
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Nothing may outlive a server that could not listen: the log, stdio MCP servers.
    await parley.close();
    throw error;
  }
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info(
    {
      port,
      host: config.host,
      dev_mode: config.devMode,
      token_pacing_ms: config.tokenPacingMs,
      // Specs only (`openai:gpt-4o-mini`): a model's key is never in a log line.
      agents: [...engine.agents.values()].map((agent) => `${agent.id}=${agent.modelSpec}`),
    },
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
        parley.beginShutdown();
        httpServer.close();
        const running = engine.pool.running + engine.pool.waiting;
        logger.info({ running_turns: running, grace_ms: config.shutdownGraceMs }, 'shutting down');
        await waitFor(engine.pool.whenIdle(), config.shutdownGraceMs);
        await parley.close();
        httpServer.closeAllConnections();
        logger.info('shutdown complete');
      })();
      return closing;
    },
  };
}

/**
 * Attaches Parley to an application's server. On an `http.Server` it takes the upgrades to its
 * paths (`/ws/chat/{conversation_id}`, `/ws/inspect`) and leaves every other upgrade to the
 * application; on a `WebSocketServer` it serves the sockets that server accepts. HTTP routes
 * (health, the log API, the inspector) are the application's to mount: call
 * `handleRequest(request, response)`, which returns false for any other path.
 *
 * @example
 * const parley = await attachParley(httpServer, { config: { database: 'memory' } });
 * app.use((request, response, next) => parley.handleRequest(request, response) || next());
 */
export async function attachParley(
  target: Server | WebSocketServer,
  options: ParleyOptions = {},
): Promise<ParleyHandler> {
  const parley = await createParley(options, { chatPage: false });
  if (target instanceof WebSocketServer) {
    target.on('connection', (socket, request) => {
      parley.handleConnection(socket, request);
    });
  } else {
    target.on('upgrade', (request, socket, head) => {
      // Another listener may take this path; with none, an unanswered upgrade would hang.
      if (!parley.handleUpgrade(request, socket, head) && target.listenerCount('upgrade') === 1) {
        socket.destroy();
      }
    });
  }
  return parley;
}
