import type { ErrorCode } from '../errors.js';
import type { ToolCallOutcome } from '../../streams/run-tool-call.js';
import type { ModelFinishReason, ModelUsage } from './model.js';

/** How a turn's own work ended (cancel and interrupt are decided by the conversation). */
export type TurnFinishStatus = 'completed' | 'step_limit' | 'failed' | 'timed_out';

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
    };

/**
 * Progress a turn reports on request (`progressEvents: true`) that changes no turn state: a tool
 * call's arguments while the model writes them, reasoning text, and which response of which model
 * answered a step. The complete `tool-call` event still follows each tool input.
 */
export type TurnProgressEvent =
  | { type: 'tool-input-start'; toolCallId: string; toolName: string }
  | { type: 'tool-input-delta'; toolCallId: string; delta: string }
  | { type: 'tool-input-end'; toolCallId: string }
  | { type: 'reasoning-delta'; delta: string }
  | { type: 'model-response'; step: number; responseId?: string; modelId?: string };

/** Every event of a turn that reports its progress too. */
export type TurnEventWithProgress = TurnEvent | TurnProgressEvent;
