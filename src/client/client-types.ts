/**
 * The public shape of the Parley client: its options, its status and its methods.
 */
import type { z } from 'zod';
import type {
  clientFrameSchema,
  HistoryFrame,
  ServerFrame,
  ToolApprovalDecisionFrame,
  WelcomeFrame,
} from '../protocol/frames.js';
import type { ParleyClientError } from './client-error.js';
import type { WebSocketConstructor } from './web-socket-like.js';

/**
 * Where the client is: `connecting` (first connection), `open` (welcomed, can send),
 * `reconnecting` (lost the connection, waiting or trying again), `closed` (for good).
 */
export type ParleyClientStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A frame the client may send, as written by hand (`history.limit` may be left out). */
export type ClientFrameInput = z.input<typeof clientFrameSchema>;

/** When and how often to reconnect after an unexpected close. */
export interface ReconnectOptions {
  /** Upper bound of the first delay (full jitter: the delay is random below it). @default 250 */
  initialDelayMs?: number;
  /** Upper bound of any delay; the bound doubles per failed attempt up to this. @default 10_000 */
  maxDelayMs?: number;
  /** Consecutive failed attempts before giving up with `reconnect_failed`. @default Infinity */
  maxAttempts?: number;
}

/** Options for `connect`. */
export interface ParleyClientOptions {
  /** Server base URL, `http(s)://` or `ws(s)://`, e.g. `http://127.0.0.1:8080`. */
  url: string;
  conversationId: string;
  /** The user id in development mode, sent as `?user_id=`. Ignored by the server when a token is sent. */
  userId?: string;
  /**
   * A JWT, or a function returning one; the function is called before every connection, so a
   * reconnect uses a fresh token. Sent as the subprotocol `bearer.<jwt>` next to `parley.v1`:
   * it works in browsers and, unlike `?token=`, stays out of proxy logs.
   */
  token?: string | (() => string | Promise<string>);
  /** Resume from this seq on the first connection: the server replays every later event. */
  since?: number;
  /**
   * The agent of the conversation, when this connection creates it (`?agent=`); an existing
   * conversation keeps its own (`welcome.agent` says which).
   */
  agent?: string;
  /** Reconnection policy, or `false` to close for good on the first unexpected close. */
  reconnect?: false | ReconnectOptions;
  /**
   * The WebSocket implementation.
   * @default globalThis.WebSocket when present, else the `ws` package (imported only then)
   */
  WebSocket?: WebSocketConstructor;
  /** Check every incoming frame against `serverFrameSchema` and skip those that fail. @default true */
  validate?: boolean;
}

/** Options for waiting on a frame. */
export interface WaitForOptions {
  /** Reject with `timeout` after this long; `Infinity` waits for ever. @default 30_000 */
  timeoutMs?: number;
}

/** A page request for {@link ParleyClient.history}: events with `after` < seq < `before`. */
export interface HistoryQuery {
  before?: number;
  after?: number;
  /** @default 100 (at most 500) */
  limit?: number;
}

/** Options for {@link ParleyClient.answerApproval}. */
export interface ApprovalAnswerOptions extends WaitForOptions {
  /** Why (at most 500 characters); everyone sees it in the decision, the model too on a denial. */
  reason?: string;
}

/** Reports status changes, and non-fatal problems (with the status unchanged) as `error`. */
export type StatusListener = (status: ParleyClientStatus, error?: ParleyClientError) => void;

/** A connected Parley client; see `connect`. */
export interface ParleyClient {
  readonly status: ParleyClientStatus;
  /**
   * The seq this client is up to date with: the highest conversation-event seq received, or the
   * joining `welcome`'s seq before the first event. Reconnections resume from here.
   */
  readonly lastSeq: number;
  /** The `welcome` of the current (or last) connection. */
  readonly welcome: WelcomeFrame;
  /** Sends a frame. Throws `not_open` unless the status is `open`. */
  send(frame: ClientFrameInput): void;
  /** Sends a `user_message`. Throws `not_open` unless the status is `open`. */
  sendMessage(content: string, clientMessageId?: string): void;
  /** Cancels the running turn, or the given one. Throws `not_open` unless the status is `open`. */
  cancel(turnId?: string): void;
  /**
   * Asks for a page of past events and resolves with the `history` frame that answers it
   * (matched by `request_id`). Rejects with `request_failed` when the server answers with an
   * `error` frame or the connection drops first, and with `timeout` (default 10 s).
   */
  history(query?: HistoryQuery, options?: WaitForOptions): Promise<HistoryFrame>;
  /**
   * Answers a `tool_approval_request`: `approve` or `deny` the call, with an optional reason.
   * Resolves with the call's `tool_approval_decision`, whoever's answer decided it (the first
   * valid answer wins). Rejects with `request_failed` when the server refuses this answer
   * (`details.code`: `approval_not_pending`, `approval_not_allowed`) or the connection drops
   * first, and with `timeout` (default 10 s).
   *
   * @example
   * client.subscribe((frame) => {
   *   if (frame.type === 'tool_approval_request') void client.answerApproval(frame.tool_call_id, 'approve');
   * });
   */
  answerApproval(
    toolCallId: string,
    decision: 'approve' | 'deny',
    options?: ApprovalAnswerOptions,
  ): Promise<ToolApprovalDecisionFrame>;
  /** Calls `listener` with every frame delivered from now on; returns the unsubscribe function. */
  subscribe(listener: (frame: ServerFrame) => void): () => void;
  /**
   * Every frame delivered from now on, as an async iterator. It finishes when the client is
   * closed, throws the error that ended the client otherwise, and throws
   * `frame_buffer_overflow` when its reader falls `maxBufferedFrames` frames behind.
   */
  frames(options?: { maxBufferedFrames?: number }): AsyncIterableIterator<ServerFrame>;
  /** Calls `listener` on every status change and every reported error; returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void;
  /** Resolves with the next delivered frame matching `predicate`. */
  waitFor<TFrame extends ServerFrame>(
    predicate: (frame: ServerFrame) => frame is TFrame,
    options?: WaitForOptions,
  ): Promise<TFrame>;
  waitFor(
    predicate: (frame: ServerFrame) => boolean,
    options?: WaitForOptions,
  ): Promise<ServerFrame>;
  /** Closes the connection (1000) and stops reconnecting; iterators finish, waits reject. */
  close(): Promise<void>;
}
