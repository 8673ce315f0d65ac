import type { ErrorCode } from '../errors.js';
import type { ToolCallOutcome } from '../../streams/run-tool-call.js';
import type { ModelUsage } from './model.js';

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
  | { type: 'usage'; usage: ModelUsage }
  | {
      type: 'finish';
      status: TurnFinishStatus;
      steps: number;
      error?: { code: ErrorCode; message: string };
    };
