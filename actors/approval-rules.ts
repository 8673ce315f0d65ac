/**
 * The rules of tool approval, as pure functions of the conversation's data: who may answer a
 * request, which requests are still open, and what the model is told about each decision. The
 * conversation machine's guards and actions call them; nothing here has an effect.
 */
import type { ApprovalVerdicts } from '../src/agent/run-turn.js';
import type { ApprovalVerdict } from '../src/agent/turn-event.js';
import type {
  ActiveTurn,
  ApprovalDecision,
  ApprovalRequest,
  Participant,
} from './conversation-state.js';
import { participantMayWrite } from './membership.js';

/**
 * Whether a participant may answer a `tool_approval_request`: the same rule as posting
 * (`participantMayWrite`): anyone whose access does not come from a role (`open` mode, a claim,
 * admin or the `authorize` hook), else an owner or a member, never a viewer, and never a
 * connection the hook made read-only. The one place the rule
 * lives: the machine's `mayNotApprove` guard asks it.
 *
 * @example
 * mayApprove({ connectionId: 'c1', userId: 'alice' }) // true: no role, open mode
 * mayApprove({ connectionId: 'c2', userId: 'bob', role: 'viewer' }) // false
 */
export function mayApprove(participant: Participant | undefined): boolean {
  if (participant === undefined) return false;
  return participantMayWrite(participant);
}

/** The request of a call that still waits for an answer, or undefined. */
export function openRequest(
  turn: ActiveTurn | null,
  toolCallId: string,
): ApprovalRequest | undefined {
  return turn?.approval?.requests.find(
    (request) => request.toolCallId === toolCallId && request.decision === undefined,
  );
}

/** Whether answering this call decides the last open request of the paused step. */
export function isLastOpenRequest(turn: ActiveTurn | null, toolCallId: string): boolean {
  const requests = turn?.approval?.requests ?? [];
  return (
    openRequest(turn, toolCallId) !== undefined &&
    requests.every((request) => request.decision !== undefined || request.toolCallId === toolCallId)
  );
}

/** What the model is told about a decision: go ahead, or why the call did not run. */
export function verdictOf(decision: ApprovalDecision | undefined): ApprovalVerdict {
  if (decision?.approved === true) return { approved: true };
  if (decision === undefined || decision.timedOut === true || decision.by === undefined) {
    return {
      approved: false,
      reason: 'No participant answered before the deadline, so the call did not run.',
    };
  }
  const why = decision.reason === undefined ? '.' : `: ${decision.reason}`;
  return { approved: false, reason: `${decision.by} denied this call${why}` };
}

/** The verdict of every request, by tool call id, for the turn's continuation. */
export function verdictsOf(requests: readonly ApprovalRequest[]): ApprovalVerdicts {
  return Object.fromEntries(
    requests.map((request) => [request.toolCallId, verdictOf(request.decision)]),
  );
}
