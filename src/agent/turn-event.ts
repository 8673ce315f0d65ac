import type { ErrorCode } from '../errors.js';
import type { ToolCallOutcome } from '../../streams/run-tool-call.js';
import type { ModelFinishReason, ModelMessage, ModelToolCall, ModelUsage } from './model.js';

/** How a turn's own work ended (cancel and interrupt are decided by the conversation). */
export type TurnFinishStatus =
  'completed' | 'step_limit' | 'failed' | 'timed_out' | 'budget_exceeded';

/**
 * What a running turn reports to its conversation, discriminated on `type`. The conversation
 * actor turns each into a frame with the next `seq`.
 */
export type TurnEvent =
  | { type: 'text-delta'; delta: string }
  | { type: 'tool-call'; toolCallId: string; toolName: string; input: unknown }
  | {
      type: 'tool-result';
      toolCallId: string;
      toolName: string;
      input: unknown;
      outcome: ToolCallOutcome;
    }
  /** One model call's token counts (cached and reasoning tokens when the provider reports them). */
  | { type: 'usage'; usage: ModelUsage }
  | {
      type: 'finish';
      status: TurnFinishStatus;
      steps: number;
      error?: { code: ErrorCode; message: string };
      /** Why the last model call stopped, present when the provider gave its own reason. */
      finishReason?: ModelFinishReason;
      /** The provider's own word for it (`end_turn`, `max_tokens`, `length`…). */
      rawFinishReason?: string;
    }
  /**
   * The model called tools of which some need a participant's approval: the turn's work stops
   * here (its worker is free again) and `resumeTurn` goes on from `continuation` once they are
   * answered. Last event of its turn's stream, in place of `finish`.
   */
  | { type: 'approval-needed'; continuation: TurnContinuation; at: number };

/**
 * Where a turn paused for approval: everything its continuation needs to go on. Plain data, so
 * the conversation can keep it while it waits (and read it back from the log after a restart).
 */
export interface TurnContinuation {
  /** The model context so far, ending with the assistant message that made the calls. */
  messages: ModelMessage[];
  /** Every call of the paused step, in the order the model made them. */
  toolCalls: ModelToolCall[];
  /** Ids of the calls that wait for a participant's approval. */
  approvalNeeded: string[];
  /** Model calls made so far. */
  steps: number;
}

/**
 * The answer to one call that needed approval: run it, or tell the model it was denied (the
 * `reason` becomes the tool error's message).
 */
export type ApprovalVerdict = { approved: true } | { approved: false; reason: string };

/**
 * Progress a turn reports on request (`progressEvents: true`) that changes no turn state: a tool
 * call's arguments while the model writes them, reasoning text, and which response of which model
 * answered a step. The complete `tool-call` event still follows each tool input.
 */
export type TurnProgressEvent =
  | { type: 'tool-input-start'; toolCallId: string; toolName: string }
  | { type: 'tool-input-delta'; toolCallId: string; toolName: string; delta: string }
  | { type: 'tool-input-end'; toolCallId: string }
  | { type: 'reasoning-delta'; delta: string }
  | { type: 'model-response'; step: number; responseId?: string; modelId?: string };

/** Every event of a turn that reports its progress too. */
export type TurnEventWithProgress = TurnEvent | TurnProgressEvent;
