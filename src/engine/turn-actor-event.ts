import type { TurnActorEvent } from '../../actors/conversation-state.js';
import type { TurnEvent, TurnProgressEvent } from '../agent/turn-event.js';

/**
 * A running turn's event as the flat, dotted event its conversation actor takes
 * (`text-delta` → `turn.text_delta`, …), so each is one transition label in the statechart.
 *
 * @example
 * toTurnActorEvent('turn_1', { type: 'text-delta', delta: 'Hi' })
 * // { type: 'turn.text_delta', turnId: 'turn_1', delta: 'Hi' }
 */
export function toTurnActorEvent(turnId: string, event: TurnEvent): TurnActorEvent;
export function toTurnActorEvent(
  turnId: string,
  event: TurnEvent | TurnProgressEvent,
): TurnActorEvent | undefined;
export function toTurnActorEvent(
  turnId: string,
  event: TurnEvent | TurnProgressEvent,
): TurnActorEvent | undefined {
  switch (event.type) {
    case 'text-delta':
      return { type: 'turn.text_delta', turnId, delta: event.delta };
    case 'tool-call':
      return {
        type: 'turn.tool_call',
        turnId,
        toolCallId: event.toolCallId,
        toolName: event.toolName,
        input: event.input,
      };
    case 'tool-result':
      return {
        type: 'turn.tool_result',
        turnId,
        toolCallId: event.toolCallId,
        toolName: event.toolName,
        outcome: event.outcome,
      };
    case 'usage':
      return { type: 'turn.usage', turnId, usage: event.usage };
    case 'finish':
      return {
        type: 'turn.finished',
        turnId,
        status: event.status,
        steps: event.steps,
        ...(event.error === undefined ? {} : { error: event.error }),
        ...(event.finishReason === undefined ? {} : { finishReason: event.finishReason }),
        ...(event.rawFinishReason === undefined ? {} : { rawFinishReason: event.rawFinishReason }),
      };
    case 'tool-input-delta':
      return {
        type: 'turn.tool_input_delta',
        turnId,
        toolCallId: event.toolCallId,
        toolName: event.toolName,
        delta: event.delta,
      };
    case 'reasoning-delta':
      return { type: 'turn.reasoning_delta', turnId, delta: event.delta };
    // Start, end and which response answered: no frame (the log has the model parts).
    case 'tool-input-start':
    case 'tool-input-end':
    case 'model-response':
      return undefined;
    case 'approval-needed':
      return {
        type: 'turn.awaiting_approval',
        turnId,
        continuation: event.continuation,
        at: event.at,
      };
  }
}
