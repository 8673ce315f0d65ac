import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectionMachine } from '../../actors/connection.machine.js';
import { conversationMachine } from '../../actors/conversation.machine.js';
import { parleyMachine } from '../../actors/parley.machine.js';
import type { ParleyConfig } from '../config.js';
import { toParleyError } from '../errors.js';
import type { EventStore } from '../event-log/event-store.js';
import { buildTimeline } from '../inspector/build-timeline.js';
import type { InspectionHub } from '../inspector/inspection-hub.js';
import { inspectorRequestSchema, type InspectorMessage } from '../inspector/inspector-protocol.js';
import { createInspectorSession } from '../inspector/inspector-session.js';
import { machineDefinition } from '../inspector/machine-definitions.js';
import type { Logger } from '../logger.js';
import { formatRecording, parseRecording } from '../replay/read-recording.js';
import type { Authenticator } from './authenticate.js';
import { admitInspector } from './inspector-access.js';
import { refuseUpgrade } from './refuse-upgrade.js';

/** Largest request (a recording loaded into the inspector). */
const MAX_INSPECTOR_FRAME = 16 * 1024 * 1024;
/** Past this many unsent bytes, a slow inspector is dropped rather than buffered without end. */
const MAX_INSPECTOR_BUFFER = 32 * 1024 * 1024;

/** What the inspector endpoint needs. */
export interface InspectorEndpointOptions {
  config: ParleyConfig;
  hub: InspectionHub;
  store: EventStore;
  durable: () => Promise<void>;
  logger: Logger;
  authenticator: Authenticator;
}

/**
 * The `/ws/inspect` endpoint: admits inspectors and runs one session per socket.
 *
 * @example
 * const inspector = createInspectorEndpoint({ config, hub, store, durable, logger });
 * if (url.pathname === INSPECTOR_PATH) inspector.upgrade(request, socket, head);
 */
export function createInspectorEndpoint(options: InspectorEndpointOptions) {
  const { config, hub, store, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_INSPECTOR_FRAME });
  const limits = {
    maxString: config.inspectorMaxString,
    maxArray: config.inspectorMaxArray,
    maxDepth: 6,
  };
  const machines = {
    root: machineDefinition(parleyMachine),
    conversation: machineDefinition(conversationMachine),
    connection: machineDefinition(connectionMachine),
  };

  const attach = (socket: WebSocket) => {
    const send = (message: InspectorMessage) => {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > MAX_INSPECTOR_BUFFER) {
        socket.close(1013, 'slow_consumer');
        return;
      }
      socket.send(JSON.stringify(message));
    };
    const session = createInspectorSession({
      hub,
      send,
      devMode: config.devMode,
      machines,
      parseRecording,
      buildTimeline: (recording) => buildTimeline(recording, limits),
      loadConversation: async (conversationId) => {
        await options.durable();
        const entries = await store.readEntries(conversationId);
        return entries.length === 0
          ? undefined
          : parseRecording(formatRecording(entries), `conversation:${conversationId}`);
      },
    });
    socket.on('message', (data: Buffer) => {
      let json: unknown;
      try {
        json = JSON.parse(data.toString('utf8'));
      } catch {
        send({ type: 'error', code: 'invalid_json', message: 'Request is not valid JSON.' });
        return;
      }
      const parsed = inspectorRequestSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        send({
          type: 'error',
          code: 'invalid_frame',
          message: `Invalid request: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
        });
        return;
      }
      void session.handle(parsed.data);
    });
    socket.on('error', (error) => {
      logger.debug({ error: error.message }, 'inspector socket error');
    });
    socket.on('close', () => {
      session.close();
    });
  };

  return {
    upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
      admitInspector(config, request, url, options.authenticator).then(
        () => {
          if (!socket.destroyed) wss.handleUpgrade(request, socket, head, attach);
        },
        (error: unknown) => {
          refuseUpgrade(socket, toParleyError(error));
        },
      );
    },
    close(): void {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
