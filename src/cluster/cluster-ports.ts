/**
 * The socket ends of cluster mode. A {@link RoutedConnection} is what the WebSocket adapter talks
 * to for one client socket: it hands the client's events to the local engine while this instance
 * owns the conversation, forwards them to the owner otherwise, and keeps the highest event seq the
 * client got, so that moving between owners sends no frame twice and skips none.
 *
 * {@link LocalPort} is the socket the local engine writes to (it can be cut off when the
 * conversation moves away); {@link RemotePort} is the owner's stand-in for a socket on another
 * instance: events and logged frames reach that instance through the frame stream, so only
 * replies and closes go through the port.
 */
import type { Role } from '../../actors/membership.js';
import type { ConnectionEvent, SocketPort } from '../../actors/connection-types.js';
import type { ConnectionHandle } from '../engine/engine-types.js';
import type { CloseCode } from '../errors.js';

/** Whether a frame's text is a `welcome` (stamped frames start with their body's `type`). */
export function isWelcome(text: string): boolean {
  return text.startsWith('{"type":"welcome"');
}

/** The `seq` of a stamped frame's text (its envelope ends the object), or undefined. */
export function seqOf(text: string): number | undefined {
  const match = /"seq":(\d+),"timestamp":\d+}$/.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** How a connection currently reaches its conversation. */
export type RouteMode = 'pending' | 'local' | 'remote';

/** One client socket served by this instance, wherever its conversation is owned. */
export class RoutedConnection implements ConnectionHandle {
  mode: RouteMode = 'pending';
  /** The highest event seq the client was sent. */
  lastSeq = 0;
  /** Whether the client was sent a welcome (a later owner's welcome is not repeated). */
  welcomed = false;
  /**
   * Whether conversation events go to the client: from its welcome on, or from the start for a
   * client that resumes from `lastSeq`.
   */
  receiving = false;
  /** Events wait here while the connection has no owner to go to. */
  readonly queue: ConnectionEvent[] = [];
  /** While a catch-up from the log runs, live events wait here. */
  gate: { seq: number; text: string }[] | null = null;
  /** The local engine's handle and port, in `local` mode. */
  local: { handle: ConnectionHandle; port: LocalPort } | undefined;
  /** The instance its inputs are forwarded to, in `remote` mode. */
  owner: string | undefined;
  /** What the upgrade admitted it with, passed to whichever engine runs the conversation. */
  admission: { role?: Role; readOnly?: true; agent?: string } = {};
  /** The epoch of `owner`'s lease when this connection was opened there. */
  ownerEpoch: number | undefined;
  /**
   * Inputs forwarded to `owner` that it has not acknowledged yet, by record id: refused with
   * `cluster_unavailable` if the conversation moves before the acknowledgement arrives.
   */
  readonly unacked = new Map<string, { frameType: string; clientMessageId?: string }>();
  /** Forwarded inputs go one after another, so the owner gets them in order. */
  forwarding: Promise<void> = Promise.resolve();
  closed = false;

  constructor(
    readonly connectionId: string,
    readonly userId: string,
    readonly conversationId: string,
    readonly socket: SocketPort,
    private readonly onEvent: (connection: RoutedConnection, event: ConnectionEvent) => void,
  ) {}

  send(event: ConnectionEvent): void {
    this.onEvent(this, event);
  }

  /** Sends a conversation event unless the client has it, or holds it during a catch-up. */
  deliverEvent(seq: number, text: string): void {
    if (this.gate !== null) {
      this.gate.push({ seq, text });
      return;
    }
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    this.socket.send(text);
  }

  /** Sends a frame addressed to this connection (a repeated welcome is dropped). */
  deliverDirect(text: string): void {
    if (isWelcome(text)) {
      if (this.welcomed) return;
      this.welcomed = true;
      if (!this.receiving) {
        this.receiving = true;
        this.lastSeq = Math.max(this.lastSeq, seqOf(text) ?? 0);
      }
    }
    this.socket.send(text);
  }

  /** Ends a catch-up: the held events the client has not had go out, then live ones flow. */
  release(): void {
    const held = this.gate ?? [];
    this.gate = null;
    for (const frame of held) this.deliverEvent(frame.seq, frame.text);
  }
}

/** The socket the local engine writes to for a {@link RoutedConnection}; cut off on a move. */
export class LocalPort implements SocketPort {
  cut = false;

  constructor(private readonly connection: RoutedConnection) {}

  send(data: string): void {
    if (this.cut) return;
    if (isWelcome(data)) {
      if (this.connection.welcomed) return;
      this.connection.welcomed = true;
      // The client has the conversation as of its welcome: a later move goes on from there.
      this.connection.lastSeq = Math.max(this.connection.lastSeq, seqOf(data) ?? 0);
    }
    this.connection.socket.send(data);
  }

  close(code: CloseCode, reason: string): void {
    if (!this.cut) this.connection.socket.close(code, reason);
  }

  terminate(): void {
    if (!this.cut) this.connection.socket.terminate();
  }

  ping(): void {
    if (!this.cut) this.connection.socket.ping();
  }
}

/** What a {@link RemotePort} does with what the owner's engine gives it. */
export interface RemotePortSink {
  /** Publishes a reply (or a close) to the connection on the conversation's stream. */
  direct(frame: {
    seq: number;
    to: string;
    text: string;
    close?: { code: CloseCode; reason: string };
  }): void;
  /** The conversation's current seq, for a close. */
  currentSeq(): number;
}

/**
 * The owner's port for a socket on another instance. Its liveness is that instance's job (it
 * pings its own socket), so a ping here is answered at once.
 */
export class RemotePort implements SocketPort {
  handle: ConnectionHandle | undefined;
  readonly early: ConnectionEvent[] = [];
  cut = false;

  constructor(
    readonly connectionId: string,
    readonly conversationId: string,
    private readonly sink: RemotePortSink,
  ) {}

  deliver(event: ConnectionEvent): void {
    if (this.handle === undefined) this.early.push(event);
    else this.handle.send(event);
  }

  send(data: string): void {
    if (this.cut) return;
    this.sink.direct({
      seq: seqOf(data) ?? this.sink.currentSeq(),
      to: this.connectionId,
      text: data,
    });
  }

  close(code: CloseCode, reason: string): void {
    if (this.cut) return;
    this.sink.direct({
      seq: this.sink.currentSeq(),
      to: this.connectionId,
      text: '',
      close: { code, reason },
    });
  }

  terminate(): void {
    this.close(1011, 'terminated');
  }

  ping(): void {
    queueMicrotask(() => {
      this.handle?.send({ type: 'socket.pong' });
    });
  }
}
