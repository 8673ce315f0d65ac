/**
 * The Parley client: one conversation over a WebSocket that survives drops by resuming from the
 * last seq it saw, so its reader gets every conversation event exactly once, in order.
 *
 * The pieces without state of their own live beside it: backoff, the close decision, frame
 * parsing, seq tracking, waiters and the fan-out; what stays here is the connection lifecycle
 * (connect, welcome, reconnect with resume, close), which is one state machine over one socket
 * and reads worse split up: that is why this file is over 300 lines.
 */
import type { ErrorCode } from '../errors.js';
import {
  conversationIdSchema,
  DIRECT_FRAME_TYPES,
  type HistoryFrame,
  type ServerFrame,
  type ToolApprovalDecisionFrame,
  type WelcomeFrame,
} from '../protocol/frames.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { ParleyClientError } from './client-error.js';
import { decideAfterClose } from './decide-after-close.js';
import type {
  ApprovalAnswerOptions,
  ClientFrameInput,
  HistoryQuery,
  ParleyClient,
  ParleyClientOptions,
  ParleyClientStatus,
  StatusListener,
  WaitForOptions,
} from './client-types.js';
import { FrameFanOut } from './frame-fan-out.js';
import { DEFAULT_MAX_BUFFERED_FRAMES } from './frame-queue.js';
import { FrameWaiters } from './frame-waiters.js';
import { parseServerFrame } from './parse-server-frame.js';
import { SequenceTracker } from './sequence-tracker.js';
import {
  chatUrl,
  defaultWebSocket,
  READY_STATE,
  subprotocols,
  type WebSocketConstructor,
  type WebSocketLike,
} from './web-socket-like.js';

const DEFAULT_WAIT_MS = 30_000;
const DEFAULT_HISTORY_WAIT_MS = 10_000;
/** How long `close()` waits for the server's close frame before giving up on it. */
const CLOSE_HANDSHAKE_MS = 3_000;

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

/**
 * The client behind `connect`: at most one socket at a time, replaced after an unexpected close.
 *
 * Lifecycle: `connecting` → `open` (on `welcome`) → `reconnecting` (socket lost, timer running or
 * next socket not yet welcomed) → `open` … → `closed` (by `close()`, or a fatal error). Incoming
 * frames go parse → seq check (conversation events only) → fan-out to subscribers, iterators and
 * waiters. Only the current socket's events count: a replaced socket can still fire late ones.
 */
class ReconnectingClient implements ParleyClient {
  private currentStatus: ParleyClientStatus = 'connecting';
  private welcomeFrame: WelcomeFrame | undefined;
  private readonly sequence: SequenceTracker;
  private socket: WebSocketLike | undefined;
  private socketError: string | undefined;
  private serverError: { code: ErrorCode; message: string } | undefined;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private closing = false;
  private ended = false;
  private requestCount = 0;
  private firstConnect: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private readonly fanOut = new FrameFanOut(
    (frame) => {
      this.waiters.offer(frame);
    },
    (cause) => {
      this.report(new ParleyClientError('listener_failed', 'A frame listener threw.', { cause }));
    },
  );
  private readonly statusListeners = new Set<StatusListener>();
  private readonly waiters = new FrameWaiters<WebSocketLike>();
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

  async answerApproval(
    toolCallId: string,
    decision: 'approve' | 'deny',
    options: ApprovalAnswerOptions = {},
  ): Promise<ToolApprovalDecisionFrame> {
    this.send({
      type: 'tool_approval',
      tool_call_id: toolCallId,
      decision,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
    });
    const answer = await this.wait(
      (frame) =>
        (frame.type === 'tool_approval_decision' && frame.tool_call_id === toolCallId) ||
        (frame.type === 'error' &&
          frame.in_reply_to === 'tool_approval' &&
          frame.details?.tool_call_id === toolCallId),
      options.timeoutMs ?? DEFAULT_HISTORY_WAIT_MS,
      `the decision on tool call ${toolCallId}`,
      this.socket,
    );
    if (answer.type === 'tool_approval_decision') return answer;
    const details = answer.type === 'error' ? { code: answer.code, message: answer.message } : {};
    throw new ParleyClientError(
      'request_failed',
      `The server refused the answer to tool call ${toolCallId}: ${JSON.stringify(details)}`,
      { details },
    );
  }

  subscribe(listener: (frame: ServerFrame) => void): () => void {
    return this.fanOut.subscribe(listener);
  }

  frames({ maxBufferedFrames = DEFAULT_MAX_BUFFERED_FRAMES } = {}) {
    return this.fanOut.iterate(maxBufferedFrames);
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
      agent: this.options.agent,
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
    this.waiters.rejectAll(lost, socket);
    if (this.closing) {
      this.finish();
      return;
    }
    const decision = decideAfterClose(
      { code, reason, serverError: this.serverError, socketError: this.socketError },
      {
        firstConnection: this.firstConnect !== undefined,
        reconnect: this.options.reconnect !== false,
        attempts: this.attempts,
      },
    );
    if (decision.reconnect) this.scheduleReconnect(decision.step);
    else this.finish(decision.error);
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
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.closeTimer);
    this.socket = undefined;
    this.firstConnect?.reject(
      error ?? new ParleyClientError('client_closed', 'Closed before welcome.'),
    );
    this.firstConnect = undefined;
    this.setStatus('closed', error);
    const closed = new ParleyClientError('client_closed', 'The client was closed.', {
      ...(error === undefined ? {} : { cause: error }),
    });
    this.fanOut.end(error, () => {
      this.waiters.rejectAll(closed);
      this.resolveClosed();
    });
  }

  // ---------------------------------------------------------------- incoming frames

  private receive(data: unknown): void {
    const parsed = parseServerFrame(data, this.options.validate !== false);
    if (!parsed.ok) {
      this.report(parsed.error);
      return;
    }
    const { frame } = parsed;
    if (isDirectFrame(frame)) {
      if (frame.type === 'welcome') this.welcomed(frame);
      if (frame.type === 'error') this.serverError = { code: frame.code, message: frame.message };
      this.fanOut.deliver(frame);
      return;
    }
    // Without validation a frame may lack a seq; it cannot be checked, only passed on.
    if (typeof frame.seq !== 'number') {
      this.fanOut.deliver(frame);
      return;
    }
    const verdict = this.sequence.accept(frame.seq);
    if (!verdict.deliver) return;
    if (verdict.gap !== undefined) {
      const { expected, received } = verdict.gap;
      const message = `Expected seq ${expected}, received ${received} (${frame.type}).`;
      this.report(new ParleyClientError('seq_gap', message, { details: { expected, received } }));
    }
    this.fanOut.deliver(frame);
  }

  private welcomed(frame: WelcomeFrame): void {
    this.welcomeFrame = frame;
    this.attempts = 0;
    this.sequence.joined(frame.seq);
    this.setStatus('open');
    const first = this.firstConnect;
    if (first === undefined) return;
    this.firstConnect = undefined;
    this.fanOut.hold();
    // After `await connect()` the caller's code runs in microtasks; a timer runs after them.
    setTimeout(() => {
      this.fanOut.release();
    }, 0);
    first.resolve();
  }

  private wait(
    predicate: (frame: ServerFrame) => boolean,
    timeoutMs: number,
    description: string,
    socket?: WebSocketLike,
  ): Promise<ServerFrame> {
    if (this.ended) {
      return Promise.reject(new ParleyClientError('client_closed', 'The client is closed.'));
    }
    return this.waiters.wait(predicate, timeoutMs, description, socket);
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
