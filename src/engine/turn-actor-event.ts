import type { TurnActorEvent } from '../../actors/conversation-state.js';
import type { TurnEvent } from '../agent/turn-event.js';

/**
 * A running turn's event as the flat, dotted event its conversation actor takes
 * (`text-delta` → `turn.text_delta`, …), so each is one transition label in the statechart.
 *
 * @example
 * toTurnActorEvent('turn_1', { type: 'text-delta', delta: 'Hi' })
 * // { type: 'turn.text_delta', turnId: 'turn_1', delta: 'Hi' }
 */
export function toTurnActorEvent(turnId: string, event: TurnEvent): TurnActorEvent {
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
      };
    case 'approval-needed':
      return {
        type: 'turn.awaiting_approval',
        turnId,
        continuation: event.continuation,
        at: event.at,
      };
  }
}
