/**
 * One client connection of the load generator, over a raw WebSocket (Parley and the `ws` server)
 * or `socket.io-client` (Socket.IO). Resolves once the server's `welcome` arrives; every frame
 * received is handed to the load generator with the fields it measures.
 */
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';

/** Which client library talks to the server. */
export type Transport = 'ws' | 'socketio';

/** The participant that asks, one per conversation. */
export interface Driver {
  inFlight: boolean;
  /** Sent its first message (a later `start` leaves it alone). */
  started: boolean;
  sentAt: number;
  startedAt: number;
  /** Turns completed. */
  turns: number;
  /** Chunks of the current turn, and when its first and last arrived. */
  turnTokens: number;
  firstChunkAt: number;
  lastChunkAt: number;
}

/** An open connection. */
export interface Connection {
  readonly index: number;
  /** Sends the current `user_message`. */
  sendMessage(): void;
  close(): void;
  driver?: Driver;
  welcomed: boolean;
  closed: boolean;
}

/** Where a connection reports what happens to it. */
export interface ConnectionEvents {
  /** A frame: its type, `timestamp` (0 if none), the delta's production stamp (0 if none). */
  frame(
    connection: Connection,
    type: string,
    timestamp: number,
    stamp: number,
    raw: string | object,
  ): void;
  problem(kind: 'errors' | 'closes', key: string): void;
  /** The `user_message` to send, as text (WebSocket) and as an object (Socket.IO). */
  payload(): { text: string; object: object };
}

/** Where to connect: index i joins conversation `c⌊i / participants⌋` as user `u<i>`. */
export interface ConnectionTarget {
  port: number;
  index: number;
  participants: number;
}

/**
 * Opens one connection and resolves when it has been welcomed.
 *
 * @example
 * const connection = await openConnection('ws', { port, index: 0, participants: 10 }, events);
 */
export function openConnection(
  transport: Transport,
  target: ConnectionTarget,
  events: ConnectionEvents,
): Promise<Connection> {
  return transport === 'ws' ? openWs(target, events) : openSocketIo(target, events);
}

/**
 * Reads the measured fields without `JSON.parse` (type first, `timestamp` last, the stamp at the
 * start of `delta`), which keeps the client's CPU for receiving.
 */
function readWsFrame(events: ConnectionEvents, connection: Connection, text: string): void {
  const typeAt = text.indexOf('"type":"') + 8;
  const type = text.slice(typeAt, text.indexOf('"', typeAt));
  const timestampAt = text.lastIndexOf('"timestamp":');
  const timestamp = timestampAt < 0 ? 0 : parseFloat(text.slice(timestampAt + 12));
  const deltaAt = type === 'agent_response_chunk' ? text.indexOf('"delta":"@') : -1;
  const stamp = deltaAt < 0 ? 0 : parseFloat(text.slice(deltaAt + 10));
  events.frame(connection, type, timestamp, stamp, text);
}

function openWs(
  { port, index, participants }: ConnectionTarget,
  events: ConnectionEvents,
): Promise<Connection> {
  const conversation = `c${Math.floor(index / participants)}`;
  const url = `ws://127.0.0.1:${port}/ws/chat/${conversation}?user_id=u${index}`;
  const socket = new WebSocket(url, { perMessageDeflate: false });
  const connection: Connection = {
    index,
    welcomed: false,
    closed: false,
    sendMessage: () => {
      if (socket.readyState === WebSocket.OPEN) socket.send(events.payload().text);
    },
    close: () => {
      socket.terminate();
    },
  };
  return new Promise((resolve, reject) => {
    socket.on('message', (data: Buffer) => {
      readWsFrame(events, connection, data.toString('utf8'));
      if (connection.welcomed) resolve(connection);
    });
    socket.on('error', (error) => {
      events.problem('errors', `socket_${(error as { code?: string }).code ?? error.message}`);
      reject(error);
    });
    socket.on('close', (code) => {
      connection.closed = true;
      events.problem('closes', String(code));
      reject(new Error(`closed with ${code} before welcome`));
    });
  });
}

function openSocketIo(
  { port, index, participants }: ConnectionTarget,
  events: ConnectionEvents,
): Promise<Connection> {
  const socket: Socket = io(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: 60_000,
    // In `auth`, not the query: the server discards the handshake's HTTP request, as Socket.IO's
    // performance guide advises, and with it the query.
    auth: { conversation: `c${Math.floor(index / participants)}`, user_id: `u${index}` },
  });
  const connection: Connection = {
    index,
    welcomed: false,
    closed: false,
    sendMessage: () => {
      socket.emit('user_message', events.payload().object);
    },
    close: () => {
      socket.disconnect();
    },
  };
  return new Promise((resolve, reject) => {
    socket.on('frame', (frame: { type: string; timestamp?: number; delta?: string }) => {
      const stamp =
        frame.type === 'agent_response_chunk' && frame.delta?.startsWith('@') === true
          ? parseFloat(frame.delta.slice(1))
          : 0;
      events.frame(connection, frame.type, frame.timestamp ?? 0, stamp, frame);
      if (connection.welcomed) resolve(connection);
    });
    socket.on('connect_error', (error) => {
      events.problem('errors', `connect_${error.message}`);
      reject(error);
    });
    socket.on('disconnect', (reason) => {
      connection.closed = true;
      events.problem('closes', reason);
      reject(new Error(`disconnected (${reason}) before welcome`));
    });
  });
}
