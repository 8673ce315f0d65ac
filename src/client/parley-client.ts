/**
 * The Parley client: one conversation over a WebSocket that survives drops by resuming from the
 * last seq it saw, so its reader gets every conversation event exactly once, in order.
 */
import {
  conversationIdSchema,
  DIRECT_FRAME_TYPES,
  serverFrameSchema,
  type HistoryFrame,
  type ServerFrame,
  type WelcomeFrame,
} from '../protocol/frames.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { ParleyClientError } from './client-error.js';
import type {
  ClientFrameInput,
  HistoryQuery,
  ParleyClient,
  ParleyClientOptions,
  ParleyClientStatus,
  StatusListener,
  WaitForOptions,
} from './client-types.js';
import { DEFAULT_MAX_BUFFERED_FRAMES, FrameQueue } from './frame-queue.js';
import { SequenceTracker } from './sequence-tracker.js';
import {
  chatUrl,
  defaultWebSocket,
  READY_STATE,
  subprotocols,
  type WebSocketConstructor,
  type WebSocketLike,
} from './web-socket-like.js';

/** Close codes that blame the client (unsupported data, invalid payload, policy): no retry. */
const REJECTING_CLOSE_CODES: ReadonlySet<number> = new Set([1003, 1007, 1008]);
/** Server restart: come back at the first backoff step, another instance may already serve. */
const SERVICE_RESTART = 1012;
const DEFAULT_WAIT_MS = 30_000;
const DEFAULT_HISTORY_WAIT_MS = 10_000;
/** How long `close()` waits for the server's close frame before giving up on it. */
const CLOSE_HANDSHAKE_MS = 3_000;

interface Waiter {
  predicate: (frame: ServerFrame) => boolean;
  resolve: (frame: ServerFrame) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** A request sent on this socket: its answer cannot come once that socket has closed. */
  socket: WebSocketLike | undefined;
}

/**
 * Connects to a conversation and resolves once the server's `welcome` has arrived.
 *
 * Frames that arrive together with the `welcome` (the joiner's own `presence`, the events replayed
 * for `since`) are delivered on the next macrotask, after this promise resolves: subscribe or call
 * `frames()` right after `await connect(…)` to see them, the `welcome` first.
 *
 * Rejects with `invalid_options` for a bad URL or conversation id and with `connect_failed` when the
 * first connection does not reach `welcome` (refused upgrade, network error); later drops reconnect.
 *
 * @example
 * const client = await connect({ url: 'http://127.0.0.1:8080', conversationId: 'demo', userId: 'alice' });
 * client.sendMessage('What is 5 + 3?');
 * for await (const frame of client.frames()) {
 *   if (frame.type === 'agent_response_complete') break;
 * }
 * await client.close();
 */
export async function connect(options: ParleyClientOptions): Promise<ParleyClient> {
  if (!conversationIdSchema.safeParse(options.conversationId).success) {
    throw new ParleyClientError(
      'invalid_options',
      `Invalid conversationId ${JSON.stringify(options.conversationId)}: expected 1-128 characters of A-Z a-z 0-9 _ - . :`,
    );
  }
  try {
    chatUrl(options.url, options.conversationId, {});
  } catch (cause) {
    throw new ParleyClientError('invalid_options', `Invalid url ${JSON.stringify(options.url)}.`, {
      cause,
    });
  }
  const WebSocketClass = options.WebSocket ?? (await defaultWebSocket());
  const client = new ReconnectingClient(options, WebSocketClass);
  await client.start();
  return client;
}

class ReconnectingClient implements ParleyClient {
  private currentStatus: ParleyClientStatus = 'connecting';
  private welcomeFrame: WelcomeFrame | undefined;
  private readonly sequence: SequenceTracker;
  private socket: WebSocketLike | undefined;
  private socketError: string | undefined;
  private serverError: { code: string; message: string } | undefined;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private closing = false;
  private ended = false;
  private endError: ParleyClientError | undefined;
  private requestCount = 0;
  /** Frames held between the first `welcome` and the macrotask after `connect` resolves. */
  private held: ServerFrame[] | undefined;
  private afterHeld: (() => void) | undefined;
  private firstConnect: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private readonly listeners = new Set<(frame: ServerFrame) => void>();
  private readonly queues = new Set<FrameQueue<ServerFrame>>();
  private readonly statusListeners = new Set<StatusListener>();
  private readonly waiters = new Set<Waiter>();
  private readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    private readonly options: ParleyClientOptions,
    private readonly WebSocketClass: WebSocketConstructor,
  ) {
    this.sequence = new SequenceTracker(options.since);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get status(): ParleyClientStatus {
    return this.currentStatus;
  }

  get lastSeq(): number {
    return this.sequence.lastSeq;
  }

  get welcome(): WelcomeFrame {
    if (this.welcomeFrame === undefined) throw new Error('No welcome yet: await connect() first.');
    return this.welcomeFrame;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject };
      void this.open();
    });
  }

  send(frame: ClientFrameInput): void {
    const socket = this.socket;
    if (this.status !== 'open' || socket?.readyState !== READY_STATE.open) {
      throw new ParleyClientError(
        'not_open',
        `Cannot send a ${frame.type} frame while the client is ${this.status}; wait for status "open" (onStatus).`,
      );
    }
    socket.send(JSON.stringify(frame));
  }

  sendMessage(content: string, clientMessageId?: string): void {
    this.send({
      type: 'user_message',
      content,
      ...(clientMessageId === undefined ? {} : { client_message_id: clientMessageId }),
    });
  }

  cancel(turnId?: string): void {
    this.send({ type: 'cancel', ...(turnId === undefined ? {} : { turn_id: turnId }) });
  }

  async history(query: HistoryQuery = {}, options: WaitForOptions = {}): Promise<HistoryFrame> {
    this.requestCount += 1;
    const requestId = `history-${this.requestCount}`;
    this.send({
      type: 'history',
      ...(query.before === undefined ? {} : { before: query.before }),
      ...(query.after === undefined ? {} : { after: query.after }),
      ...(query.limit === undefined ? {} : { limit: query.limit }),
      request_id: requestId,
    });
    const answer = await this.wait(
      (frame) =>
        (frame.type === 'history' && frame.request_id === requestId) ||
        (frame.type === 'error' && frame.in_reply_to === requestId),
      options.timeoutMs ?? DEFAULT_HISTORY_WAIT_MS,
      `the history answer to ${requestId}`,
      this.socket,
    );
    if (answer.type === 'history') return answer;
    const details = answer.type === 'error' ? { code: answer.code, message: answer.message } : {};
    throw new ParleyClientError(
      'request_failed',
      `The server refused history request ${requestId}: ${JSON.stringify(details)}`,
      { details },
    );
  }

  subscribe(listener: (frame: ServerFrame) => void): () => void {
    const entry = (frame: ServerFrame) => {
      listener(frame);
    };
    if (!this.ended) this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  frames({ maxBufferedFrames = DEFAULT_MAX_BUFFERED_FRAMES } = {}) {
    const push = (frame: ServerFrame) => {
      queue.push(frame);
    };
    const queue = new FrameQueue<ServerFrame>(maxBufferedFrames, () => {
      this.listeners.delete(push);
      this.queues.delete(queue);
    });
    if (this.ended) {
      queue.end(this.endError);
    } else {
      this.listeners.add(push);
      this.queues.add(queue);
    }
    return queue;
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  waitFor<TFrame extends ServerFrame>(
    predicate: (frame: ServerFrame) => boolean,
    options: WaitForOptions = {},
  ): Promise<TFrame> {
    return this.wait(
      predicate,
      options.timeoutMs ?? DEFAULT_WAIT_MS,
      'a matching frame',
    ) as Promise<TFrame>;
  }

  close(): Promise<void> {
    if (this.ended || this.closing) return this.closed;
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (socket === undefined || socket.readyState === READY_STATE.closed) {
      this.finish();
    } else {
      socket.close(1000, 'client closed');
      this.closeTimer = setTimeout(() => {
        this.finish();
      }, CLOSE_HANDSHAKE_MS);
    }
    return this.closed;
  }

  // ---------------------------------------------------------------- connection lifecycle

  private async open(): Promise<void> {
    let token: string | undefined;
    try {
      const { token: given } = this.options;
      token = typeof given === 'function' ? await given() : given;
    } catch (cause) {
      this.failedAttempt(
        new ParleyClientError('connect_failed', 'The token function failed.', { cause }),
      );
      return;
    }
    if (this.ended || this.closing) return;
    const url = chatUrl(this.options.url, this.options.conversationId, {
      user_id: this.options.userId,
      since: this.sequence.resumePoint,
    });
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketClass(url, subprotocols(token));
    } catch (cause) {
      this.failedAttempt(new ParleyClientError('connect_failed', `Cannot open ${url}.`, { cause }));
      return;
    }
    this.socket = socket;
    this.socketError = undefined;
    this.serverError = undefined;
    // A replaced socket may still fire late events; only the current one counts.
    socket.addEventListener('message', (event) => {
      if (this.socket === socket) this.receive(event.data);
    });
    socket.addEventListener('error', (event) => {
      if (this.socket === socket) this.socketError = describeError(event);
    });
    socket.addEventListener('close', ({ code, reason }) => {
      if (this.socket === socket) this.socketClosed(socket, code, reason);
    });
  }

  private socketClosed(socket: WebSocketLike, code: number, reason: string): void {
    this.socket = undefined;
    const lost = new ParleyClientError(
      'request_failed',
      `The connection closed (${code}) before the answer arrived; ask again once open.`,
      { closeCode: code },
    );
    for (const waiter of this.waiters) if (waiter.socket === socket) this.settle(waiter, lost);
    if (this.closing) {
      this.finish();
      return;
    }
    const because = [reason, this.serverError?.message, this.socketError]
      .filter(Boolean)
      .join('; ');
    const description = `closed with ${code}${because === '' ? '' : ` (${because})`}`;
    const details = this.serverError === undefined ? {} : { details: { ...this.serverError } };
    if (this.firstConnect !== undefined) {
      this.failedAttempt(
        new ParleyClientError('connect_failed', `The connection ${description} before welcome.`, {
          closeCode: code,
          ...details,
        }),
      );
    } else if (REJECTING_CLOSE_CODES.has(code)) {
      this.finish(
        new ParleyClientError('rejected', `The server ${description}; not reconnecting.`, {
          closeCode: code,
          ...details,
        }),
      );
    } else if (this.options.reconnect === false) {
      this.finish(
        new ParleyClientError('connection_lost', `The connection ${description}.`, {
          closeCode: code,
        }),
      );
    } else {
      this.scheduleReconnect(code === SERVICE_RESTART ? 0 : this.attempts);
    }
  }

  /** An attempt that never reached `welcome`: fatal for the first connection, else retried. */
  private failedAttempt(error: ParleyClientError): void {
    this.socket = undefined;
    if (this.firstConnect !== undefined || this.options.reconnect === false) this.finish(error);
    else this.scheduleReconnect(this.attempts);
  }

  private scheduleReconnect(step: number): void {
    const { reconnect = {} } = this.options;
    const { maxAttempts = Infinity, ...backoff } = reconnect === false ? {} : reconnect;
    if (this.attempts >= maxAttempts) {
      this.finish(
        new ParleyClientError(
          'reconnect_failed',
          `Gave up after ${this.attempts} reconnection attempts.`,
        ),
      );
      return;
    }
    this.attempts += 1;
    this.setStatus('reconnecting');
    this.reconnectTimer = setTimeout(
      () => {
        this.reconnectTimer = undefined;
        void this.open();
      },
      backoffDelay(step, { ...DEFAULT_BACKOFF, ...backoff }),
    );
  }

  private finish(error?: ParleyClientError): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = error;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.closeTimer);
    this.socket = undefined;
    this.firstConnect?.reject(
      error ?? new ParleyClientError('client_closed', 'Closed before welcome.'),
    );
    this.firstConnect = undefined;
    this.setStatus('closed', error);
    const end = () => {
      for (const queue of this.queues) queue.end(error);
      this.listeners.clear();
      const closed = new ParleyClientError('client_closed', 'The client was closed.', {
        ...(error === undefined ? {} : { cause: error }),
      });
      for (const waiter of this.waiters) this.settle(waiter, closed);
      this.resolveClosed();
    };
    // Frames held for the first readers still reach them before their iterators end.
    if (this.held === undefined) end();
    else this.afterHeld = end;
  }

  // ---------------------------------------------------------------- incoming frames

  private receive(data: unknown): void {
    const frame = this.parse(data);
    if (frame === undefined) return;
    if (isDirectFrame(frame)) {
      if (frame.type === 'welcome') this.welcomed(frame);
      if (frame.type === 'error') this.serverError = { code: frame.code, message: frame.message };
      this.deliver(frame);
      return;
    }
    // Without validation a frame may lack a seq; it cannot be checked, only passed on.
    if (typeof frame.seq !== 'number') {
      this.deliver(frame);
      return;
    }
    const verdict = this.sequence.accept(frame.seq);
    if (!verdict.deliver) return;
    if (verdict.gap !== undefined) {
      const { expected, received } = verdict.gap;
      this.report(
        new ParleyClientError(
          'seq_gap',
          `Expected seq ${expected}, received ${received} (${frame.type}).`,
          {
            details: { expected, received },
          },
        ),
      );
    }
    this.deliver(frame);
  }

  private parse(data: unknown): ServerFrame | undefined {
    if (typeof data !== 'string') {
      this.report(new ParleyClientError('invalid_frame', 'Skipped a binary frame.'));
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch (cause) {
      this.report(
        new ParleyClientError('invalid_frame', 'Skipped a frame that is not JSON.', { cause }),
      );
      return undefined;
    }
    if (this.options.validate === false) {
      if (typeof json === 'object' && json !== null) return json as ServerFrame;
      this.report(new ParleyClientError('invalid_frame', 'Skipped a frame that is not an object.'));
      return undefined;
    }
    const parsed = serverFrameSchema.safeParse(json);
    if (parsed.success) return parsed.data;
    const type = (json as { type?: unknown } | null)?.type;
    this.report(
      new ParleyClientError(
        'invalid_frame',
        `Skipped an invalid ${String(type)} frame: ${parsed.error.message}`,
        {
          cause: parsed.error,
        },
      ),
    );
    return undefined;
  }

  private welcomed(frame: WelcomeFrame): void {
    this.welcomeFrame = frame;
    this.attempts = 0;
    this.sequence.joined(frame.seq);
    this.setStatus('open');
    const first = this.firstConnect;
    if (first === undefined) return;
    this.firstConnect = undefined;
    this.held = [];
    // After `await connect()` the caller's code runs in microtasks; a timer runs after them.
    setTimeout(() => {
      const held = this.held ?? [];
      this.held = undefined;
      for (const heldFrame of held) this.deliver(heldFrame);
      this.afterHeld?.();
    }, 0);
    first.resolve();
  }

  private deliver(frame: ServerFrame): void {
    if (this.held !== undefined) {
      this.held.push(frame);
      return;
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(frame);
      } catch (cause) {
        this.report(new ParleyClientError('listener_failed', 'A frame listener threw.', { cause }));
      }
    }
    for (const waiter of [...this.waiters]) {
      let matches: boolean;
      try {
        matches = waiter.predicate(frame);
      } catch (cause) {
        this.settle(waiter, cause instanceof Error ? cause : new Error(String(cause)));
        continue;
      }
      if (matches) this.settle(waiter, frame);
    }
  }

  // ---------------------------------------------------------------- helpers

  private wait(
    predicate: (frame: ServerFrame) => boolean,
    timeoutMs: number,
    description: string,
    socket?: WebSocketLike,
  ): Promise<ServerFrame> {
    if (this.ended) {
      return Promise.reject(new ParleyClientError('client_closed', 'The client is closed.'));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { predicate, resolve, reject, timer: undefined, socket };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => {
          this.settle(
            waiter,
            new ParleyClientError(
              'timeout',
              `Timed out after ${timeoutMs} ms waiting for ${description}.`,
            ),
          );
        }, timeoutMs);
      }
      this.waiters.add(waiter);
    });
  }

  private settle(waiter: Waiter, outcome: ServerFrame | Error): void {
    if (!this.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  private report(error: ParleyClientError): void {
    this.setStatus(this.status, error);
  }

  private setStatus(status: ParleyClientStatus, error?: ParleyClientError): void {
    if (status === this.currentStatus && error === undefined) return;
    this.currentStatus = status;
    for (const listener of [...this.statusListeners]) {
      try {
        listener(status, error);
      } catch {
        // A status listener that throws has nowhere to be reported to but itself; the client
        // must not stop because of it.
      }
    }
  }
}

function isDirectFrame(
  frame: ServerFrame,
): frame is Extract<ServerFrame, { type: (typeof DIRECT_FRAME_TYPES)[number] }> {
  return (DIRECT_FRAME_TYPES as readonly string[]).includes(frame.type);
}

function describeError(event: unknown): string | undefined {
  const message = (event as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}
