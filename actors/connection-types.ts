/**
 * Types of the connection actor: the socket port it drives, its injected effects, its input,
 * context and events.
 */
import type { CloseCode, ErrorCode } from '../src/errors.js';
import type { ClientFrame } from '../src/protocol/frames.js';
import type { JoinAnswer } from './conversation-state.js';
import type { Role } from './membership.js';

/** What the connection actor needs from its socket; the ws adapter implements it. */
export interface SocketPort {
  send(data: string): void;
  close(code: CloseCode, reason: string): void;
  terminate(): void;
  /** A WebSocket-level ping; the peer's pong arrives as `socket.pong`. */
  ping(): void;
  /**
   * Calls back once every frame sent so far has left for the kernel (or the socket closed): a
   * resume sends its next page only then. Absent: frames count as flushed at once.
   */
  whenFlushed?(callback: () => void): void;
}

/** A reply to one connection: a frame body the engine stamps with the current seq and time. */
export type ReplyBody = Record<string, unknown> & { type: 'pong' | 'error' | 'history' };

/** Effects the connection actor uses, injected (one object shared by every connection). */
export interface ConnectionEffects {
  now(): number;
  /** Sends a reply to this connection only (pong, error): the one path for such frames. */
  reply(connectionId: string, body: ReplyBody): void;
  /** Sends this connection the events after `since`, then lets live events through. */
  resume(connectionId: string, since: number): void;
  /** Answers a `history` request with a `history` frame (or an `error`). */
  history(connectionId: string, query: Extract<ClientFrame, { type: 'history' }>): void;
  /** Takes one message from the user's rate budget. */
  takeRateToken(userId: string): { allowed: true } | { allowed: false; retryAfterMs: number };
  /**
   * Whether the user's token budget lets a turn start (`PARLEY_USER_TOKEN_BUDGET`).
   * @default always (no budget)
   */
  checkBudget?(userId: string): { allowed: true } | { allowed: false; retryAfterMs: number };
}

/** Input of the connection actor. */
export interface ConnectionMachineInput {
  connectionId: string;
  userId: string;
  conversationId: string;
  socket: SocketPort;
  effects: ConnectionEffects;
  /** The seq this connection resumes from (`?since=`), announced in its welcome. */
  since?: number | undefined;
  /** The member role it was admitted with; absent when its access is not a role's. */
  role?: Role | undefined;
  /** It may read but not post, whatever its role (the `authorize` hook refused `post`). */
  readOnly?: true | undefined;
  /** Time a slow consumer has to read its 1013 close frame before termination. @default 1_000 */
  slowConsumerGraceMs?: number;
  /** Unanswered pings before the socket is terminated. @default 2 */
  maxMissedPongs?: number;
  /** Invalid frames or rate violations tolerated per minute before closing with 1008. @default 10 */
  maxStrikes?: number;
  /**
   * Hibernate after this long without a frame from the client, checked at each heartbeat tick.
   * 0 or absent: never. @default 0
   */
  hibernateAfterMs?: number;
  /**
   * The rest is absent for a new connection. A hibernated connection wakes with its whole
   * context as input (its shard keeps it), so these carry over.
   */
  missedPongs?: number;
  strikes?: readonly number[];
  closeCode?: CloseCode;
  closeReason?: string;
  lastFrameAt?: number;
  hibernations?: number;
}

export type ConnectionContext = ConnectionMachineInput &
  Required<
    Pick<
      ConnectionMachineInput,
      | 'maxMissedPongs'
      | 'slowConsumerGraceMs'
      | 'maxStrikes'
      | 'hibernateAfterMs'
      | 'missedPongs'
      | 'strikes'
      | 'closeCode'
      | 'closeReason'
      | 'lastFrameAt'
      | 'hibernations'
    >
  >;

/** Events of the connection actor. */
export type ConnectionEvent =
  | JoinAnswer
  | { type: 'frame.received'; frame: ClientFrame }
  | { type: 'frame.invalid'; code: ErrorCode; message: string; issues?: unknown[] }
  | { type: 'socket.pong' }
  /** From the connection's shard, once per heartbeat interval. */
  | { type: 'heartbeat.tick' }
  | { type: 'socket.closed'; code: number }
  | { type: 'outbound.overflow'; limit: number }
  | { type: 'server.shutdown' }
  | { type: 'strikes.check' };
