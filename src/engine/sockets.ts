/**
 * The engine's registry of open sockets, and the one place frames are written to them.
 */
import type { SocketPort } from '../../actors/connection-types.js';
import type { ParleyMetrics } from '../metrics/parley-metrics.js';
import { isErrorCode, type CloseCode } from '../errors.js';
import { stampFrame, type FrameBody } from './stamp-frame.js';

interface Buffered {
  data: string;
  seq: number;
}

interface OpenSocket {
  conversationId: string;
  port: SocketPort;
  /** While a resume catches up, live event frames wait here. */
  gate: Buffered[] | null;
  /** Highest event seq sent to this connection. */
  lastEventSeq: number;
  /** Settles a {@link Sockets.flushed} wait, also when the socket goes away. */
  onFlushed: ((open: boolean) => void) | undefined;
  /**
   * Cluster mode: the socket is on another instance, which gets the conversation's events and
   * logged direct frames from the frame stream; only replies go to this port.
   */
  remote: boolean;
}

/** Past this many live frames waiting behind a catch-up, the client is treated as too slow. */
const MAX_GATED_FRAMES = 10_000;

/** What {@link Sockets} needs from the engine. */
export interface SocketsOptions {
  /** Tells the connection that its client cannot keep up (it closes with 1013). */
  onOverflow(connectionId: string): void;
  /** The conversation's current seq, which a reply to one connection repeats. */
  currentSeq(conversationId: string): number;
  now(): number;
  /** Counts every frame written (by type) and every refusal replied. */
  metrics?: Pick<ParleyMetrics, 'frameSent' | 'framesSent' | 'refused'>;
}

/**
 * Open sockets by connection id. Event frames (`sendEvent`) are what a conversation published and
 * logged; replies (`reply`) are answers to one connection that the log does not keep (pong,
 * history, errors about its own frames). A connection that resumes is gated: its live event
 * frames wait while the missed ones are sent from the log, then flow on, skipping any it already
 * got, so a resume has no gap and no duplicate. Replies are never held back. A catch-up sends a
 * page, waits until {@link flushed}, then sends the next, so it never fills the outbound buffer.
 *
 * @example
 * sockets.add('conn_1', 'demo', port, { gated: true });
 * sockets.sendEvent('conn_1', data, 12);
 * sockets.reply('conn_1', { type: 'pong' });
 */
export class Sockets {
  private readonly sockets = new Map<string, OpenSocket>();

  constructor(private readonly options: SocketsOptions) {}

  get size(): number {
    return this.sockets.size;
  }

  add(
    connectionId: string,
    conversationId: string,
    port: SocketPort,
    { gated = false, remote = false, lastEventSeq = 0 } = {},
  ) {
    this.sockets.set(connectionId, {
      conversationId,
      port,
      gate: gated ? [] : null,
      lastEventSeq,
      remote,
      onFlushed: undefined,
    });
  }

  /** The connections of a conversation with the highest event seq each was sent (cluster mode). */
  connectionsOf(
    conversationId: string,
  ): { connectionId: string; lastEventSeq: number; remote: boolean }[] {
    const found = [];
    for (const [connectionId, socket] of this.sockets) {
      if (socket.conversationId !== conversationId) continue;
      found.push({ connectionId, lastEventSeq: socket.lastEventSeq, remote: socket.remote });
    }
    return found;
  }

  /** The highest event seq sent to a connection, 0 when none or unknown. */
  lastEventSeqOf(connectionId: string): number {
    return this.sockets.get(connectionId)?.lastEventSeq ?? 0;
  }

  remove(connectionId: string): void {
    const socket = this.sockets.get(connectionId);
    this.sockets.delete(connectionId);
    socket?.onFlushed?.(false);
  }

  /**
   * Resolves once every frame sent to this connection so far has left for the kernel: `true`,
   * or `false` when the socket is gone (then there is nothing more to send it).
   */
  flushed(connectionId: string): Promise<boolean> {
    const socket = this.sockets.get(connectionId);
    if (socket === undefined) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      socket.onFlushed = (open) => {
        socket.onFlushed = undefined;
        resolve(open);
      };
      if (socket.port.whenFlushed === undefined) socket.onFlushed(true);
      else socket.port.whenFlushed(() => socket.onFlushed?.(true));
    });
  }

  /** The open connections' ids (a live view: copy it before changing the registry). */
  connectionIds(): IterableIterator<string> {
    return this.sockets.keys();
  }

  conversationOf(connectionId: string): string | undefined {
    return this.sockets.get(connectionId)?.conversationId;
  }

  /** Sends a conversation event frame, or holds it while the connection catches up. */
  sendEvent(connectionId: string, data: string, seq: number): void {
    if (this.sendUncounted(connectionId, data, seq)) this.options.metrics?.frameSent(data);
  }

  /**
   * {@link sendEvent} to every recipient of one conversation event, whose `type` the caller knows:
   * the frames written now are counted once for all (a held frame is counted when it is written),
   * instead of reading the type back from each copy (measured with bench/compare-builds.ts, 10
   * participants: docs/PERFORMANCE.md, issue 13).
   */
  sendEventToAll(connectionIds: readonly string[], data: string, seq: number, type: string): void {
    let written = 0;
    for (const connectionId of connectionIds) {
      if (this.sendUncounted(connectionId, data, seq)) written += 1;
    }
    if (written > 0) this.options.metrics?.framesSent(type, written);
  }

  /** Writes or holds an event frame; true when it was written now (not held, not dropped). */
  private sendUncounted(connectionId: string, data: string, seq: number): boolean {
    const socket = this.sockets.get(connectionId);
    if (socket === undefined || socket.remote) return false;
    if (socket.gate !== null) {
      socket.gate.push({ data, seq });
      if (socket.gate.length > MAX_GATED_FRAMES) {
        socket.gate = null;
        this.options.onOverflow(connectionId);
      }
      return false;
    }
    // Event seqs only grow: one the socket already has is never sent twice (a frame relayed
    // again after an owner changed, or logged and relayed across a handover).
    if (seq <= socket.lastEventSeq) return false;
    socket.lastEventSeq = seq;
    socket.port.send(data);
    return true;
  }

  /** Sends a frame to one connection that is not an event (a logged `welcome`, a reply). */
  sendDirect(connectionId: string, data: string): void {
    const socket = this.sockets.get(connectionId);
    if (socket === undefined || socket.remote) return;
    this.options.metrics?.frameSent(data);
    socket.port.send(data);
  }

  /** Stamps a reply with the conversation's current seq and sends it to this connection only. */
  reply(connectionId: string, body: FrameBody): void {
    const socket = this.sockets.get(connectionId);
    if (socket === undefined) return;
    const { conversationId } = socket;
    const frame = stampFrame(
      body,
      conversationId,
      this.options.currentSeq(conversationId),
      this.options.now(),
    );
    const data = JSON.stringify(frame);
    if (body.type === 'error' && isErrorCode(body.code)) this.options.metrics?.refused(body.code);
    this.options.metrics?.frameSent(data);
    socket.port.send(data);
  }

  /** Closes one connection's socket (its actor hears `socket.closed` and leaves). */
  close(connectionId: string, code: CloseCode, reason: string): void {
    this.sockets.get(connectionId)?.port.close(code, reason);
  }

  /** Open connection ids of a conversation. */
  connectionIdsOf(conversationId: string): string[] {
    const ids: string[] = [];
    for (const [connectionId, socket] of this.sockets) {
      if (socket.conversationId === conversationId) ids.push(connectionId);
    }
    return ids;
  }

  /** Holds this connection's live event frames until {@link release}. */
  hold(connectionId: string): void {
    const socket = this.sockets.get(connectionId);
    if (socket !== undefined) socket.gate ??= [];
  }

  /** Sends a missed frame from the log during a catch-up (not one the socket already has). */
  sendMissed(connectionId: string, data: string, seq: number): void {
    const socket = this.sockets.get(connectionId);
    if (socket !== undefined && seq > socket.lastEventSeq) this.writeEvent(socket, data, seq);
  }

  /**
   * Ends a catch-up one page at a time: sends up to `max` held frames the connection has not had
   * yet (skipping those the catch-up already sent). Returns `true` once nothing is held any more
   * and the connection is live (or gone), `false` while more frames wait for the next page.
   */
  releasePage(connectionId: string, max: number): boolean {
    const socket = this.sockets.get(connectionId);
    if (socket?.gate == null) return true;
    const held = socket.gate;
    let taken = 0;
    let sent = 0;
    while (taken < held.length && sent < max) {
      const frame = held[taken] as Buffered;
      taken += 1;
      if (frame.seq > socket.lastEventSeq) {
        this.writeEvent(socket, frame.data, frame.seq);
        sent += 1;
      }
    }
    if (taken === held.length) {
      socket.gate = null;
      return true;
    }
    held.splice(0, taken);
    return false;
  }

  private writeEvent(socket: OpenSocket, data: string, seq: number): void {
    socket.lastEventSeq = seq;
    this.options.metrics?.frameSent(data);
    socket.port.send(data);
  }
}
