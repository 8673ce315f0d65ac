import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { SocketPort } from '../../actors/connection.machine.js';
import type { ConnectionEvent } from '../../actors/connection-types.js';
import type { ConnectionHandle, Engine } from '../engine.js';
import type { Logger } from '../logger.js';
import { parseClientFrame } from '../protocol/parse-client-frame.js';

/** Options for {@link attachSocket}. */
export interface AttachSocketOptions {
  engine: Engine;
  socket: WebSocket;
  /** The upgraded TCP socket under `socket`: corked while one tick's frames are written. */
  rawSocket?: Duplex;
  userId: string;
  conversationId: string;
  /** Resume from this seq (`?since=`). */
  since?: number;
  logger: Logger;
}

/**
 * Connects one `ws` socket to a new connection actor: parses inbound frames at the edge,
 * counts outbound frames not yet flushed to the kernel, and reports the socket's pongs, errors
 * and close. A client that lets more than `outboundBufferFrames` frames pile up is reported as
 * an overflow (the actor closes it with 1013) and nothing more is queued for it, so a slow
 * consumer can never grow server memory.
 *
 * @example
 * wss.handleUpgrade(request, socket, head, (ws) => attachSocket({ engine, socket: ws, ... }));
 */
export function attachSocket({
  engine,
  socket,
  rawSocket,
  userId,
  conversationId,
  since,
  logger,
}: AttachSocketOptions): void {
  let corked = false;
  const uncork = () => {
    corked = false;
    rawSocket?.uncork();
  };
  const limit = engine.config.outboundBufferFrames;
  let unflushed = 0;
  let overflowed = false;
  const onFlushed = () => {
    unflushed -= 1;
  };

  const port: SocketPort = {
    send(data) {
      if (overflowed || socket.readyState !== socket.OPEN) return;
      if (unflushed >= limit) {
        overflowed = true;
        deliver({ type: 'outbound.overflow', limit });
        return;
      }
      unflushed += 1;
      // The frames of one tick (one log batch) leave in one writev instead of one each: the
      // profile showed a system call per frame per recipient as half of the server's CPU.
      if (!corked && rawSocket !== undefined) {
        corked = true;
        rawSocket.cork();
        process.nextTick(uncork);
      }
      socket.send(data, onFlushed);
    },
    close(code, reason) {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
        socket.close(code, reason);
      }
    },
    terminate() {
      socket.terminate();
    },
    ping() {
      if (socket.readyState === socket.OPEN) socket.ping();
    },
  };

  // The conversation may be restored from the log first: what the socket says meanwhile waits
  // here, in order, and is handed over once the connection actor exists.
  let handle: ConnectionHandle | undefined;
  const early: ConnectionEvent[] = [];
  const deliver = (event: ConnectionEvent) => {
    if (handle === undefined) early.push(event);
    else handle.send(event);
  };
  let log = logger.child({ user_id: userId, conversation_id: conversationId });
  engine
    .openConnection({
      userId,
      conversationId,
      socket: port,
      ...(since === undefined ? {} : { since }),
    })
    .then(
      (opened) => {
        handle = opened;
        log = log.child({ connection_id: opened.connectionId });
        log.info({ since }, 'connection opened');
        for (const event of early.splice(0)) opened.send(event);
      },
      (error: unknown) => {
        log.error({ error: error instanceof Error ? error.message : String(error) }, 'join failed');
        port.close(1011, 'internal_error');
      },
    );

  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      deliver({
        type: 'frame.invalid',
        code: 'unsupported_data',
        message: 'Binary frames are not supported; send JSON text frames.',
      });
      return;
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    const result = parseClientFrame(text);
    if (result.ok) {
      log.trace({ frame: result.frame }, 'frame received');
      deliver({ type: 'frame.received', frame: result.frame });
    } else {
      log.debug({ code: result.error.code }, 'invalid frame');
      deliver({
        type: 'frame.invalid',
        code: result.error.code,
        message: result.error.message,
        ...(result.error.issues === undefined ? {} : { issues: result.error.issues }),
      });
    }
  });
  socket.on('pong', () => {
    deliver({ type: 'socket.pong' });
  });
  // Without an error listener a socket error would be thrown and end the process; ws closes the
  // socket itself after emitting it (1009 for an oversize frame, 1002 for a protocol error).
  socket.on('error', (error: Error & { code?: string }) => {
    log.info({ error_code: error.code, error: error.message }, 'socket error');
  });
  socket.on('close', (code) => {
    log.info({ code }, 'connection closed');
    deliver({ type: 'socket.closed', code });
  });
}
