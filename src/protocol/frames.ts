/**
 * Over 300 lines because it is the protocol: every frame's zod schema, one entry each.
 *
 * The wire protocol: zod schemas for every frame in both directions, in one place.
 *
 * Conversation events (everything but `welcome`, `pong` and `error`) carry a per-conversation
 * `seq` that is gapless and identical for every participant. Replies addressed to one connection
 * (`welcome`, `pong`, `error`) repeat the conversation's current `seq` and consume none.
 * docs/WEBSOCKET_API.md documents each frame with an example.
 */
import * as z from 'zod';
import { ERROR_CODE_NAMES } from '../errors.js';

/** The protocol version announced in `welcome`; bumped on any breaking change. */
export const PROTOCOL_VERSION = 1;

/** Longest `user_message.content` accepted, in characters. */
export const MAX_CONTENT_CHARS = 16_000;

/** Conversation ids: 1–128 characters of letters, digits, `_`, `-`, `.` and `:`. */
export const conversationIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected 1-128 characters of A-Z a-z 0-9 _ - . :');

const identifier = z.string().min(1).max(128);

// ---------------------------------------------------------------- client → server

/** `user_message`: a chat message from a participant; starts (or queues) an agent turn. */
export const clientUserMessageSchema = z.object({
  type: z.literal('user_message'),
  content: z
    .string()
    .max(MAX_CONTENT_CHARS)
    .refine((value) => value.trim().length > 0, 'expected non-empty text'),
  client_message_id: identifier.optional(),
});

/** `typing_indicator`: the participant started or stopped typing. */
export const clientTypingIndicatorSchema = z.object({
  type: z.literal('typing_indicator'),
  is_typing: z.boolean(),
});

/** `ping`: application-level liveness check, answered by `pong` with the same `id`. */
export const clientPingSchema = z.object({
  type: z.literal('ping'),
  id: z.string().max(64).optional(),
});

/** `cancel`: stop the running turn (or the given one); its partial answer is kept. */
export const clientCancelSchema = z.object({
  type: z.literal('cancel'),
  turn_id: identifier.optional(),
});

/** Longest `reason` of a `tool_approval`, in characters. */
export const MAX_APPROVAL_REASON_CHARS = 500;

/**
 * `tool_approval`: a participant's answer to a `tool_approval_request` (approve or deny the call,
 * with an optional reason). The first valid answer decides; later ones get `approval_not_pending`.
 */
export const clientToolApprovalSchema = z.object({
  type: z.literal('tool_approval'),
  tool_call_id: identifier,
  decision: z.enum(['approve', 'deny']),
  reason: z.string().max(MAX_APPROVAL_REASON_CHARS).optional(),
});

/** Largest page of a `history` request. */
export const MAX_HISTORY_PAGE = 500;

/**
 * `resume`: send me every conversation event after `since` (the last seq I saw), then go on live.
 * Same as connecting with `?since=`.
 */
export const clientResumeSchema = z.object({
  type: z.literal('resume'),
  since: z.number().int().nonnegative(),
});

/** `history`: a page of past conversation events, by seq (`after` < seq < `before`). */
export const clientHistorySchema = z.object({
  type: z.literal('history'),
  before: z.number().int().positive().optional(),
  after: z.number().int().nonnegative().optional(),
  limit: z.number().int().min(1).max(MAX_HISTORY_PAGE).default(100),
  request_id: z.string().max(64).optional(),
});

/** Longest token an `authenticate` frame may carry, in characters. */
export const MAX_TOKEN_CHARS = 16_384;

/**
 * `authenticate`: a fresh JWT for this connection, sent before the current one's `exp`; answered
 * by `authenticated` with the new expiry, or an `error` `unauthorized` (the old token stays).
 */
export const clientAuthenticateSchema = z.object({
  type: z.literal('authenticate'),
  token: z.string().min(1).max(MAX_TOKEN_CHARS),
});

/** Every frame a client may send, discriminated on `type`. */
export const clientFrameSchema = z.discriminatedUnion('type', [
  clientUserMessageSchema,
  clientTypingIndicatorSchema,
  clientPingSchema,
  clientCancelSchema,
  clientResumeSchema,
  clientHistorySchema,
  clientToolApprovalSchema,
  clientAuthenticateSchema,
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type ClientUserMessage = z.infer<typeof clientUserMessageSchema>;

// ---------------------------------------------------------------- server → client

const envelope = {
  conversation_id: z.string(),
  seq: z.number().int().nonnegative(),
  timestamp: z.number().int().nonnegative(),
};

const usageSchema = z.object({
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
  /** Of `input_tokens`, those the provider read from its prompt cache (when it says). */
  cached_input_tokens: z.number().int().nonnegative().optional(),
  /** Of `output_tokens`, those spent on reasoning (when the provider says). */
  reasoning_tokens: z.number().int().nonnegative().optional(),
});

/**
 * An error code from the one error table (src/errors.ts, docs/WEBSOCKET_API.md): clients can
 * switch on it exhaustively. New codes come only with a new release of the protocol module.
 */
export const errorCodeSchema = z.enum(ERROR_CODE_NAMES);

const errorInfoSchema = z.object({ code: errorCodeSchema, message: z.string() });

/** Sent once to a connection when it has joined; `seq` is the conversation's current seq. */
export const welcomeFrameSchema = z.object({
  type: z.literal('welcome'),
  ...envelope,
  protocol_version: z.literal(PROTOCOL_VERSION),
  connection_id: z.string(),
  user_id: z.string(),
  participants: z.array(z.string()),
  active_turn_id: z.string().nullable(),
  /** The `since` this connection resumes from (from `?since=`); its missed events follow. */
  resumed_from: z.number().int().nonnegative().optional(),
  /**
   * The agent that answers in this conversation (chosen when it was created) and its model
   * (`openai:gpt-4o-mini`, `offline`…). Added in protocol version 1 as an optional field.
   */
  agent: z.object({ id: z.string(), model: z.string() }).optional(),
  limits: z.object({
    max_frame_bytes: z.number(),
    max_content_chars: z.number(),
    outbound_buffer_frames: z.number(),
    rate_limit_messages: z.number(),
    rate_limit_window_ms: z.number(),
    heartbeat_interval_ms: z.number(),
  }),
});

/** A participant joined or left; `participants` is the user list after the change. */
export const presenceFrameSchema = z.object({
  type: z.literal('presence'),
  ...envelope,
  status: z.enum(['joined', 'left']),
  user_id: z.string(),
  connection_id: z.string(),
  participants: z.array(z.string()),
});

/** A member's role in a conversation (docs/SECURITY.md). */
export const roleSchema = z.enum(['owner', 'member', 'viewer']);

/**
 * The conversation's members changed: `created` (the creator is its owner), `added`, `changed`
 * or `removed`. `changes` lists what this event did (`role: null` removed the user), `members`
 * the whole list after it; `by` is the user who asked (`admin` for an admin token).
 */
export const membershipFrameSchema = z.object({
  type: z.literal('membership'),
  ...envelope,
  action: z.enum(['created', 'added', 'changed', 'removed']),
  by: z.string(),
  changes: z.array(z.object({ user_id: z.string(), role: roleSchema.nullable() })),
  members: z.array(z.object({ user_id: z.string(), role: roleSchema })),
});

/** A participant's message, as accepted; `turn_id` is the agent turn that will answer it. */
export const userMessageFrameSchema = z.object({
  type: z.literal('user_message'),
  ...envelope,
  message_id: z.string(),
  user_id: z.string(),
  content: z.string(),
  turn_id: z.string(),
  client_message_id: z.string().optional(),
});

/** Someone is typing: a user (`actor: "user"`) or the agent working on a turn. */
export const typingIndicatorFrameSchema = z.object({
  type: z.literal('typing_indicator'),
  ...envelope,
  actor: z.enum(['user', 'agent']),
  user_id: z.string().optional(),
  turn_id: z.string().optional(),
  is_typing: z.boolean(),
});

/** The agent calls a tool; `arguments` is what the model produced. */
export const toolCallFrameSchema = z.object({
  type: z.literal('tool_call'),
  ...envelope,
  turn_id: z.string(),
  tool_call_id: z.string(),
  tool_name: z.string(),
  arguments: z.unknown(),
});

/**
 * A piece of a tool call's arguments (JSON text) while the model writes them; the complete
 * `tool_call` with the same `tool_call_id` follows. Only from models that stream arguments.
 */
export const toolCallDeltaFrameSchema = z.object({
  type: z.literal('tool_call_delta'),
  ...envelope,
  turn_id: z.string(),
  tool_call_id: z.string(),
  tool_name: z.string(),
  delta: z.string(),
});

/** A piece of the model's reasoning, in order; only for agents that show it (`showReasoning`). */
export const agentReasoningChunkFrameSchema = z.object({
  type: z.literal('agent_reasoning_chunk'),
  ...envelope,
  turn_id: z.string(),
  delta: z.string(),
});

/** The result of a tool call: `ok` with `result`, or not `ok` with `error`. */
export const toolResultFrameSchema = z.object({
  type: z.literal('tool_result'),
  ...envelope,
  turn_id: z.string(),
  tool_call_id: z.string(),
  tool_name: z.string(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: errorInfoSchema.optional(),
  duration_ms: z.number().nonnegative(),
});

/**
 * The agent's turn is paused until a participant allowed to approve answers with `tool_approval`
 * (one frame per call that needs it). No answer by `deadline` (epoch ms: `timeout_ms` after the
 * turn paused, at most that after this frame's `timestamp`) counts as a denial.
 */
export const toolApprovalRequestFrameSchema = z.object({
  type: z.literal('tool_approval_request'),
  ...envelope,
  turn_id: z.string(),
  tool_call_id: z.string(),
  tool_name: z.string(),
  arguments: z.unknown(),
  deadline: z.number().int().nonnegative(),
  timeout_ms: z.number().int().positive(),
});

/**
 * How a call that needed approval was decided: by whom (`decided_by`, absent when nobody answered
 * in time: `timed_out`), with the reason they gave.
 */
export const toolApprovalDecisionFrameSchema = z.object({
  type: z.literal('tool_approval_decision'),
  ...envelope,
  turn_id: z.string(),
  tool_call_id: z.string(),
  tool_name: z.string(),
  decision: z.enum(['approved', 'denied']),
  decided_by: z.string().optional(),
  reason: z.string().optional(),
  timed_out: z.literal(true).optional(),
});

/** One piece of the agent's answer, in order; `index` counts chunks within the turn from 0. */
export const agentResponseChunkFrameSchema = z.object({
  type: z.literal('agent_response_chunk'),
  ...envelope,
  turn_id: z.string(),
  message_id: z.string(),
  index: z.number().int().nonnegative(),
  delta: z.string(),
});

/** How a turn ended. */
export const turnStatusSchema = z.enum([
  'completed',
  'cancelled',
  'interrupted',
  'failed',
  'timed_out',
  'step_limit',
  'budget_exceeded',
]);
export type TurnStatus = z.infer<typeof turnStatusSchema>;

/** The turn has ended: the full text (partial when cancelled), usage, and why it ended. */
export const agentResponseCompleteFrameSchema = z.object({
  type: z.literal('agent_response_complete'),
  ...envelope,
  turn_id: z.string(),
  message_id: z.string(),
  content: z.string(),
  status: turnStatusSchema,
  usage: usageSchema,
  steps: z.number().int().nonnegative(),
  error: errorInfoSchema.optional(),
  cancelled_by: z.string().optional(),
  /**
   * Why the model's last call stopped (`stop`, `tool-calls`, `length`, `content-filter`, `error`,
   * `other`), with the provider's own word in `raw_finish_reason` (`end_turn`, `max_tokens`…);
   * present when a provider gave one.
   */
  finish_reason: z
    .enum(['stop', 'tool-calls', 'length', 'content-filter', 'error', 'other'])
    .optional(),
  raw_finish_reason: z.string().optional(),
});

/** Reply to a client `ping`. */
export const pongFrameSchema = z.object({
  type: z.literal('pong'),
  ...envelope,
  id: z.string().optional(),
});

/** The connection's new token was accepted; it is closed with 4401 at `expires_at` (epoch ms). */
export const authenticatedFrameSchema = z.object({
  type: z.literal('authenticated'),
  ...envelope,
  user_id: z.string(),
  expires_at: z.number().int().nonnegative(),
});

/** A page of past conversation events, oldest first, answering a `history` request. */
export const historyFrameSchema = z.object({
  type: z.literal('history'),
  ...envelope,
  request_id: z.string().optional(),
  /** The event frames, exactly as they were sent. */
  frames: z.array(z.record(z.string(), z.unknown())),
  /** Whether more events exist beyond this page in the direction asked. */
  has_more: z.boolean(),
});

/** A problem with something this connection did; the socket stays open unless a close follows. */
export const errorFrameSchema = z.object({
  type: z.literal('error'),
  ...envelope,
  code: errorCodeSchema,
  message: z.string(),
  in_reply_to: z.string().optional(),
  issues: z
    .array(z.object({ path: z.string(), message: z.string(), expected: z.string().optional() }))
    .optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** Every frame the server sends, discriminated on `type`. */
export const serverFrameSchema = z.discriminatedUnion('type', [
  welcomeFrameSchema,
  presenceFrameSchema,
  membershipFrameSchema,
  userMessageFrameSchema,
  typingIndicatorFrameSchema,
  toolCallFrameSchema,
  toolCallDeltaFrameSchema,
  toolResultFrameSchema,
  toolApprovalRequestFrameSchema,
  toolApprovalDecisionFrameSchema,
  agentResponseChunkFrameSchema,
  agentReasoningChunkFrameSchema,
  agentResponseCompleteFrameSchema,
  pongFrameSchema,
  historyFrameSchema,
  authenticatedFrameSchema,
  errorFrameSchema,
]);

export type ServerFrame = z.infer<typeof serverFrameSchema>;
export type WelcomeFrame = z.infer<typeof welcomeFrameSchema>;
export type PongFrame = z.infer<typeof pongFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type HistoryFrame = z.infer<typeof historyFrameSchema>;
export type MembershipFrame = z.infer<typeof membershipFrameSchema>;
export type ToolApprovalRequestFrame = z.infer<typeof toolApprovalRequestFrameSchema>;
export type ToolApprovalDecisionFrame = z.infer<typeof toolApprovalDecisionFrameSchema>;

/** Frame types that are replies to one connection: they repeat the current seq. */
export const DIRECT_FRAME_TYPES = ['welcome', 'pong', 'history', 'authenticated', 'error'] as const;

/** A conversation event frame: consumes the next seq and reaches every participant. */
export type ConversationEventFrame = Exclude<
  ServerFrame,
  { type: (typeof DIRECT_FRAME_TYPES)[number] }
>;

/** A conversation event before the conversation actor stamps it with seq and timestamp. */
export type ConversationEventBody = ConversationEventFrame extends infer TFrame
  ? TFrame extends ConversationEventFrame
    ? Omit<TFrame, 'conversation_id' | 'seq' | 'timestamp'>
    : never
  : never;
