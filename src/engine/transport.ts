import type { SocketPort } from '../../actors/connection-types.js';

interface Buffered {
  data: string;
  seq: number;
  event: boolean;
}

interface Connection {
  conversationId: string;
  port: SocketPort;
  /** While a resume catches up, live event frames wait here. */
  gate: Buffered[] | null;
  /** Highest event seq sent to this connection. */
  lastEventSeq: number;
}

/** Past this many live frames waiting behind a catch-up, the client is treated as too slow. */
const MAX_GATED_FRAMES = 10_000;

/**
 * The engine's registry of open connections and the one place frames are written to sockets.
 * A connection that resumes is gated: its live event frames wait while the missed ones are sent
 * from the log, then flow on, skipping any it already got, so a resume has no gap and no
 * duplicate. Replies to one connection (welcome, pong, history, error) are never held back.
 *
 * @example
 * transport.add('conn_1', 'demo', port, { gated: true });
 * transport.send('conn_1', data, 12, true);
 */
export class Transport {
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly onOverflow: (connectionId: string) => void) {}

  get size(): number {
    return this.connections.size;
  }

  add(connectionId: string, conversationId: string, port: SocketPort, { gated = false } = {}) {
    this.connections.set(connectionId, {
      conversationId,
      port,
      gate: gated ? [] : null,
      lastEventSeq: 0,
    });
  }

  remove(connectionId: string): void {
    this.connections.delete(connectionId);
  }

  conversationOf(connectionId: string): string | undefined {
    return this.connections.get(connectionId)?.conversationId;
  }

  /** Sends a frame, or holds it while the connection catches up. */
  send(connectionId: string, data: string, seq: number, event: boolean): void {
    const connection = this.connections.get(connectionId);
    if (connection === undefined) return;
    if (connection.gate !== null && event) {
      connection.gate.push({ data, seq, event });
      if (connection.gate.length > MAX_GATED_FRAMES) {
        connection.gate = null;
        this.onOverflow(connectionId);
      }
      return;
    }
    this.write(connection, data, seq, event);
  }

  /** Holds this connection's live event frames until {@link release}. */
  hold(connectionId: string): void {
    const connection = this.connections.get(connectionId);
    if (connection !== undefined) connection.gate ??= [];
  }

  /** Sends a missed frame from the log during a catch-up. */
  sendMissed(connectionId: string, data: string, seq: number): void {
    const connection = this.connections.get(connectionId);
    if (connection !== undefined) this.write(connection, data, seq, true);
  }

  /** Ends a catch-up: sends the held frames the connection has not had yet, then goes live. */
  release(connectionId: string): void {
    const connection = this.connections.get(connectionId);
    if (connection?.gate == null) return;
    const held = connection.gate;
    connection.gate = null;
    for (const frame of held) {
      if (frame.seq > connection.lastEventSeq) this.write(connection, frame.data, frame.seq, true);
    }
  }

  private write(connection: Connection, data: string, seq: number, event: boolean): void {
    if (event) connection.lastEventSeq = Math.max(connection.lastEventSeq, seq);
    connection.port.send(data);
  }
}
