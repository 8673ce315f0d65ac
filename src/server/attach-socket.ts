/**
 * Over 300 lines because it is the one socket adapter: parsing, outbound accounting, credentials and closing.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { SocketPort } from '../../actors/connection.machine.js';
import type { ConnectionEvent } from '../../actors/connection-types.js';
import type { ConnectionHandle, Engine } from '../engine.js';
import type { CloseCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Role } from '../../actors/membership.js';
import { parseClientFrame } from '../protocol/parse-client-frame.js';

/** Options for {@link attachSocket}. */
export interface AttachSocketOptions {
  /** The engine, or in cluster mode the routing in front of it. */
  engine: Pick<Engine, 'openConnection' | 'config' | 'metrics' | 'reply'>;
  socket: WebSocket;
  /** The upgraded TCP socket under `socket`: corked while one tick's frames are written. */
  rawSocket?: Duplex;
  userId: string;
  conversationId: string;
  /** Resume from this seq (`?since=`). */
  since?: number;
  /** The member role the connection was admitted with (absent when its access is not a role's). */
  role?: Role;
  /** Reads but may not post, whatever its role (the `authorize` hook refused `post`). */
  readOnly?: true;
  /** Takes `authenticate` frames (one object for the whole server). @default refuses them */
  credentials?: CredentialRenewal;
  /** The agent of a conversation this join creates (`?agent=`). */
  agent?: string;
  logger: Logger;
}

/** What an `authenticate` frame's token came to. */
export type RenewalOutcome =
  | { ok: true; userId: string; expiresAt: number }
  /** `close`: the new token no longer grants this conversation (closed with 4403). */
  | { ok: false; code: 'unauthorized' | 'membership_revoked'; message: string };

/** Verifies a connection's fresh token and moves its expiry (see create-parley.ts). */
export interface CredentialRenewal {
  renew(
    socket: WebSocket,
    connection: { userId: string; conversationId: string },
    token: string,
  ): Promise<RenewalOutcome>;
}

/**
 * Connects one `ws` socket to a new connection actor: parses inbound frames at the edge,
 * counts outbound frames not yet flushed to the kernel, and reports the socket's pongs, errors
 * and close. A client that lets more than `outboundBufferFrames` frames pile up is reported as
 * an overflow (the actor closes it with 1013) and nothing more is queued for it, so a slow
 * consumer can never grow server memory.
 *
 * An idle connection is mostly this adapter, so it is kept small: its methods live on the
 * prototype, the socket's listeners are four functions shared by every socket (they find the
 * adapter on the socket they are called on), and it logs through the server's logger with its
 * ids in each line rather than holding pino child loggers.
 *
 * @example
 * wss.handleUpgrade(request, socket, head, (ws) => attachSocket({ engine, socket: ws, ... }));
 */
export function attachSocket(options: AttachSocketOptions): void {
  const adapter = new SocketAdapter(options);
  const socket = options.socket as AdaptedSocket;
  socket[ADAPTER] = adapter;
  socket.on('message', onMessage);
  socket.on('pong', onPong);
  // Without an error listener a socket error would be thrown and end the process; ws closes the
  // socket itself after emitting it (1009 for an oversize frame, 1002 for a protocol error).
  socket.on('error', onError);
  socket.on('close', onClose);
  adapter.open(options.since, options.agent);
}

/** Where a socket keeps its adapter, for the shared listeners below. */
const ADAPTER = Symbol('parley.socketAdapter');
type AdaptedSocket = WebSocket & { [ADAPTER]: SocketAdapter };
const PONG: ConnectionEvent = Object.freeze({ type: 'socket.pong' });

// The socket's listeners: `ws` calls them with the socket as `this`. One function each for every
// socket, where a closure per listener per socket cost an idle connection ~0.2 KiB.
const adapterOf = (socket: WebSocket) => (socket as AdaptedSocket)[ADAPTER];
function onMessage(this: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
  adapterOf(this).onMessage(data, isBinary);
}
function onPong(this: WebSocket): void {
  adapterOf(this).deliver(PONG);
}
function onError(this: WebSocket, error: Error & { code?: string }): void {
  adapterOf(this).log('info', { error_code: error.code, error: error.message }, 'socket error');
}
function onClose(this: WebSocket, code: number): void {
  const adapter = adapterOf(this);
  adapter.closed();
  adapter.log('info', { code }, 'connection closed');
  adapter.deliver({ type: 'socket.closed', code });
}

/** Ends a corked tick's write (`process.nextTick` passes the adapter: no closure per socket). */
function uncork(adapter: SocketAdapter): void {
  adapter.uncork();
}

/** The per-socket state: the {@link SocketPort} the connection actor drives, and the inbound side. */
class SocketAdapter implements SocketPort {
  readonly #engine: AttachSocketOptions['engine'];
  readonly #socket: WebSocket;
  readonly #rawSocket: Duplex | undefined;
  readonly #logger: Logger;
  readonly #userId: string;
  readonly #conversationId: string;
  readonly #role: Role | undefined;
  readonly #readOnly: true | undefined;
  readonly #credentials: CredentialRenewal | undefined;
  #connectionId: string | undefined;
  #corked = false;
  #unflushed = 0;
  #overflowed = false;
  /** Who waits for #unflushed to reach 0 (a resume between two pages). */
  #flushWaiters: (() => void)[] | undefined;
  /** Set once the connection actor exists; what the socket says before that waits in #early. */
  #handle: ConnectionHandle | undefined;
  #early: ConnectionEvent[] | undefined = [];
  /** Made once per socket, not once per frame (see the constructor). */
  readonly #onFlushed: () => void;

  constructor({
    engine,
    socket,
    rawSocket,
    logger,
    userId,
    conversationId,
    role,
    readOnly,
    credentials,
  }: AttachSocketOptions) {
    this.#engine = engine;
    this.#socket = socket;
    this.#rawSocket = rawSocket;
    this.#logger = logger;
    this.#userId = userId;
    this.#conversationId = conversationId;
    this.#role = role;
    this.#readOnly = readOnly;
    this.#credentials = credentials;
    // Assigned here rather than as class fields: a field initializer names the function, which
    // V8 stores as a dictionary property, 256 bytes per closure per connection (heap snapshot).
    this.#onFlushed = () => {
      this.#unflushed -= 1;
      if (this.#unflushed === 0 && this.#flushWaiters !== undefined) this.#flushed();
    };
  }

  /** The socket closed: nothing more will flush, so nobody waits for it. */
  closed(): void {
    this.#flushed();
  }

  uncork(): void {
    this.#corked = false;
    this.#rawSocket?.uncork();
  }

  /** Opens the connection actor; the conversation may be restored from the log first. */
  open(since: number | undefined, agent: string | undefined): void {
    this.#engine
      .openConnection({
        userId: this.#userId,
        conversationId: this.#conversationId,
        socket: this,
        ...(since === undefined ? {} : { since }),
        ...(this.#role === undefined ? {} : { role: this.#role }),
        ...(this.#readOnly === undefined ? {} : { readOnly: this.#readOnly }),
        ...(agent === undefined ? {} : { agent }),
      })
      .then(
        (opened) => {
          this.#connectionId = opened.connectionId;
          this.#handle = opened;
          this.log('info', { since }, 'connection opened');
          const early = this.#early ?? [];
          this.#early = undefined;
          for (const event of early) opened.send(event);
        },
        (error: unknown) => {
          this.log(
            'error',
            { error: error instanceof Error ? error.message : String(error) },
            'join failed',
          );
          this.close(1011, 'internal_error');
        },
      );
  }

  send(data: string): void {
    const socket = this.#socket;
    if (this.#overflowed || socket.readyState !== socket.OPEN) return;
    const limit = this.#engine.config.outboundBufferFrames;
    if (this.#unflushed >= limit) {
      this.#overflowed = true;
      this.deliver({ type: 'outbound.overflow', limit });
      return;
    }
    this.#unflushed += 1;
    // The frames of one tick (one log batch) leave in one writev instead of one each: the
    // profile showed a system call per frame per recipient as half of the server's CPU.
    if (!this.#corked && this.#rawSocket !== undefined) {
      this.#corked = true;
      this.#rawSocket.cork();
      process.nextTick(uncork, this);
    }
    socket.send(data, this.#onFlushed);
  }

  whenFlushed(callback: () => void): void {
    const socket = this.#socket;
    if (this.#unflushed === 0 || socket.readyState !== socket.OPEN) callback();
    else (this.#flushWaiters ??= []).push(callback);
  }

  #flushed(): void {
    const waiters = this.#flushWaiters ?? [];
    this.#flushWaiters = undefined;
    for (const waiter of waiters) waiter();
  }

  close(code: CloseCode, reason: string): void {
    if (reason === 'slow_consumer') this.#engine.metrics.slowConsumer();
    const socket = this.#socket;
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
      socket.close(code, reason);
    }
  }

  terminate(): void {
    this.#socket.terminate();
  }

  ping(): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.ping();
  }

  deliver(event: ConnectionEvent): void {
    if (this.#handle === undefined) this.#early?.push(event);
    else this.#handle.send(event);
  }

  onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.#engine.metrics.frameReceived('invalid');
      this.deliver({
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
    this.#engine.metrics.frameReceived(result.ok ? result.frame.type : 'invalid');
    if (result.ok && result.frame.type === 'authenticate') {
      // Answered here, never logged or shown to an actor: the frame holds a credential.
      void this.#renew(result.frame.token);
      return;
    }
    if (result.ok) {
      if (this.#logger.isLevelEnabled('trace')) {
        this.log('trace', { frame: result.frame }, 'frame received');
      }
      this.deliver({ type: 'frame.received', frame: result.frame });
    } else {
      this.log('debug', { code: result.error.code }, 'invalid frame');
      this.deliver({
        type: 'frame.invalid',
        code: result.error.code,
        message: result.error.message,
        ...(result.error.issues === undefined ? {} : { issues: result.error.issues }),
      });
    }
  }

  async #renew(token: string): Promise<void> {
    const connectionId = this.#connectionId;
    const outcome: RenewalOutcome =
      this.#credentials === undefined
        ? {
            ok: false,
            code: 'unauthorized',
            message: 'This server does not take authenticate frames.',
          }
        : await this.#credentials.renew(
            this.#socket,
            { userId: this.#userId, conversationId: this.#conversationId },
            token,
          );
    if (connectionId === undefined) return;
    if (outcome.ok) {
      this.log('info', { expires_at: outcome.expiresAt }, 'token renewed');
      this.#engine.reply(connectionId, {
        type: 'authenticated',
        user_id: outcome.userId,
        expires_at: outcome.expiresAt,
      });
      return;
    }
    this.log('info', { code: outcome.code, reason: outcome.message }, 'token renewal refused');
    this.#engine.reply(connectionId, {
      type: 'error',
      code: outcome.code,
      message: outcome.message,
      in_reply_to: 'authenticate',
    });
    if (outcome.code === 'membership_revoked') this.close(4403, 'membership_revoked');
  }

  /** One log line with this connection's ids, built only when the level is enabled. */
  log(level: 'trace' | 'debug' | 'info' | 'error', fields: object, message: string): void {
    if (!this.#logger.isLevelEnabled(level)) return;
    this.#logger[level](
      {
        user_id: this.#userId,
        conversation_id: this.#conversationId,
        ...(this.#connectionId === undefined ? {} : { connection_id: this.#connectionId }),
        ...fields,
      },
      message,
    );
  }
}
