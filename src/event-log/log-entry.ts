/**
 * The event log's entry format, version 2 (docs/EVENT_LOG.md); version 1 entries still read and
 * replay. One conversation's log is the
 * ordered list of its entries; `position` numbers them from 1 without gaps. The same entries are
 * stored (SQLite, memory), exported as JSONL, and replayed.
 */
import { z } from 'zod';

/**
 * The entry format version the log writes. Version 2 adds one thing: a chunk frame that carries
 * the whole of a model's text-delta part says so (`part`), and that part gets no entry of its own,
 * so a streamed token is one entry instead of two (issue 15).
 */
export const LOG_ENTRY_VERSION = 2;

/** Every version this Parley reads; a recording with another one is rejected. */
export const LOG_ENTRY_VERSIONS: readonly number[] = [1, 2];

const base = {
  v: z.union([z.literal(1), z.literal(LOG_ENTRY_VERSION)]),
  conversation_id: z.string(),
  /** Position in the conversation's log, 1, 2, 3 … */
  position: z.number().int().positive(),
  /** Wall-clock time of the entry, epoch ms. */
  at: z.number().int().nonnegative(),
};

/** An agent's settings as a conversation's log records them (never its model's key). */
export const recordedAgentSchema = z.object({
  id: z.string(),
  /** The model spec, `openai:gpt-4o-mini`, or `<provider>:<model id>` of a model object. */
  model: z.string(),
  system_prompt: z.string().optional(),
  tools: z.array(z.string()).optional(),
  temperature: z.number().optional(),
  max_output_tokens: z.number().int().positive().optional(),
  max_steps: z.number().int().positive().optional(),
  tool_timeout_ms: z.number().int().positive().optional(),
  show_reasoning: z.boolean().optional(),
});

/** An agent's settings as a conversation's log records them. */
export type RecordedAgent = z.infer<typeof recordedAgentSchema>;

/** What a replay needs to run the engine as it ran: the settings that shape frames. */
export const replaySettingsSchema = z.object({
  token_pacing_ms: z.number().int().nonnegative(),
  tool_timeout_ms: z.number().int().positive(),
  turn_timeout_ms: z.number().int().positive(),
  max_steps: z.number().int().positive(),
  /** Absent in recordings made before tool approval (their turns never waited for one). */
  approval_timeout_ms: z.number().int().positive().optional(),
  overlap_policy: z.enum(['queue', 'interrupt']),
  history_messages: z.number().int().positive(),
  max_participants: z.number().int().positive(),
  welcome_limits: z.record(z.string(), z.number()),
  model: z.object({ provider: z.string(), model_id: z.string() }),
  /**
   * The conversation's agent and its settings (absent in recordings made before agents, which
   * ran the one model of `model`). Every `conversation.started` of a conversation repeats its
   * first one's.
   */
  agent: recordedAgentSchema.optional(),
});
export type ReplaySettings = z.infer<typeof replaySettingsSchema>;

/** Every entry kind, discriminated on `kind`. */
export const logEntrySchema = z.discriminatedUnion('kind', [
  /** The conversation actor started (fresh, or restored after a restart). */
  z.object({
    ...base,
    kind: z.literal('conversation.started'),
    /** Seed of the conversation's id generator, so a replay makes the same ids. */
    id_seed: z.string(),
    /** The seq the actor started from (0 when fresh, the last logged seq when restored). */
    from_seq: z.number().int().nonnegative(),
    settings: replaySettingsSchema,
  }),
  /**
   * An input from a connection (join, leave, message, typing, cancel), as the conversation
   * received it. `after_seq` is the conversation's seq when it arrived: a replay delivers the input
   * at the same point of the frame sequence, whatever the timing.
   */
  z.object({
    ...base,
    kind: z.literal('input'),
    after_seq: z.number().int().nonnegative(),
    input: z.record(z.string(), z.unknown()).and(z.object({ type: z.string() })),
  }),
  /** One part of a model's stream, with its time since the model call began. */
  z.object({
    ...base,
    kind: z.literal('model.part'),
    turn_id: z.string(),
    /** The model call within the turn, from 1. */
    step: z.number().int().positive(),
    offset_ms: z.number().nonnegative(),
    part: z.record(z.string(), z.unknown()).and(z.object({ type: z.string() })),
  }),
  /** How one tool call ended (result, error or timeout), with its duration. */
  z.object({
    ...base,
    kind: z.literal('tool.outcome'),
    turn_id: z.string(),
    tool_call_id: z.string(),
    tool_name: z.string(),
    outcome: z.union([
      z.object({ ok: z.literal(true), output: z.unknown(), durationMs: z.number() }),
      z.object({
        ok: z.literal(false),
        error: z.object({ code: z.string(), message: z.string() }),
        durationMs: z.number(),
      }),
    ]),
  }),
  /**
   * A frame the conversation sent. Conversation events carry their `seq`; a reply to one
   * connection (`welcome`, `error`) names it in `to`.
   */
  z.object({
    ...base,
    kind: z.literal('frame'),
    seq: z.number().int().nonnegative(),
    to: z.string().optional(),
    frame: z.record(z.string(), z.unknown()).and(z.object({ type: z.string() })),
    /**
     * Version 2, on an `agent_response_chunk` only: the frame is the whole of the model's part
     * `{ "type": "text-delta", "delta": frame.delta }` of turn `frame.turn_id`, model call `step`,
     * `offset_ms` after the call began; that part has no `model.part` entry.
     */
    part: z
      .object({ step: z.number().int().positive(), offset_ms: z.number().nonnegative() })
      .optional(),
  }),
]);

/** One entry of a conversation's log. */
export type LogEntry = z.infer<typeof logEntrySchema>;

/** An entry before the log gives it its position. */
export type NewLogEntry = LogEntry extends infer TEntry
  ? TEntry extends LogEntry
    ? Omit<TEntry, 'position' | 'v'>
    : never
  : never;

/** A frame entry. */
export type FrameEntry = Extract<LogEntry, { kind: 'frame' }>;

/** One part of a model call, from a `model.part` entry or a version 2 chunk frame that carries it. */
export interface RecordedModelPart {
  turn_id: string;
  step: number;
  offset_ms: number;
  part: Record<string, unknown> & { type: string };
}

/**
 * The model parts of a conversation's entries, in log order, wherever they are recorded.
 *
 * @example
 * for (const { turn_id, step, part } of modelParts(entries)) ...
 */
export function* modelParts(entries: Iterable<LogEntry>): Generator<RecordedModelPart> {
  for (const entry of entries) {
    if (entry.kind === 'model.part') {
      yield {
        turn_id: entry.turn_id,
        step: entry.step,
        offset_ms: entry.offset_ms,
        part: entry.part,
      };
    } else if (entry.kind === 'frame' && entry.part !== undefined) {
      yield {
        turn_id: String(entry.frame.turn_id),
        step: entry.part.step,
        offset_ms: entry.part.offset_ms,
        part: { type: 'text-delta', delta: String(entry.frame.delta) },
      };
    }
  }
}
