/**
 * The approval half of the conversation's named actions: a turn pauses when the model calls
 * tools that need a participant's approval (`working.awaiting_approval`), participants answer,
 * the deadline denies what is left, and the turn goes on from its continuation as a new job of
 * the worker pool. Each works on a copy of the conversation's data and records its frames and
 * effects in an {@link Output}, like the actions of conversation-actions.ts.
 */
import type { ErrorCode } from '../src/errors.js';
import type { ConversationAction } from './conversation-actions.js';
import type { Output } from './conversation-output.js';
import type {
  ActiveTurn,
  ApprovalDecision,
  ApprovalRequest,
  ConversationEvent,
  ConversationState,
} from './conversation-state.js';
import { completion } from './conversation-turns.js';
import { verdictsOf } from './approval-rules.js';

/** The frame every participant sees when a call is decided. */
function decisionFrame(turnId: string, request: ApprovalRequest, decision: ApprovalDecision) {
  return {
    type: 'tool_approval_decision' as const,
    turn_id: turnId,
    tool_call_id: request.toolCallId,
    tool_name: request.toolName,
    decision: decision.approved ? ('approved' as const) : ('denied' as const),
    ...(decision.by === undefined ? {} : { decided_by: decision.by }),
    ...(decision.reason === undefined ? {} : { reason: decision.reason }),
    ...(decision.timedOut === undefined ? {} : { timed_out: true as const }),
  };
}

/** The active turn with one more request decided. */
function withDecision(
  turn: ActiveTurn,
  toolCallId: string,
  decision: ApprovalDecision,
): ActiveTurn {
  const approval = turn.approval;
  if (approval === undefined) return turn;
  return {
    ...turn,
    approval: {
      ...approval,
      requests: approval.requests.map((request) =>
        request.toolCallId === toolCallId ? { ...request, decision } : request,
      ),
    },
  };
}

function agentTyping(state: ConversationState, output: Output, turnId: string, isTyping: boolean) {
  output.broadcast(state.participants, {
    type: 'typing_indicator',
    actor: 'agent',
    turn_id: turnId,
    is_typing: isTyping,
  });
}

/**
 * The turn's work stopped before calls that need approval: keep its continuation, stop showing
 * the agent as typing, and ask every participant, one `tool_approval_request` per call.
 */
export const requestApproval: ConversationAction<'turn.awaiting_approval'> = (
  state,
  event,
  output,
) => {
  const active = state.activeTurn;
  if (active === null) return;
  const { continuation } = event;
  const timeoutMs = state.settings.approvalTimeoutMs;
  const deadline = event.at + timeoutMs;
  const requests = continuation.toolCalls
    .filter((call) => continuation.approvalNeeded.includes(call.toolCallId))
    .map((call) => ({ toolCallId: call.toolCallId, toolName: call.toolName, input: call.input }));
  state.activeTurn = {
    ...active,
    approval: { continuation, requests, deadline, waitMs: timeoutMs },
  };
  agentTyping(state, output, active.turnId, false);
  for (const request of requests) {
    output.broadcast(state.participants, {
      type: 'tool_approval_request',
      turn_id: active.turnId,
      tool_call_id: request.toolCallId,
      tool_name: request.toolName,
      arguments: request.input,
      deadline,
      timeout_ms: timeoutMs,
    });
  }
};

/** The first valid answer to a request decides it; everyone sees the decision. */
export const decideApproval: ConversationAction<'user.tool_approval'> = (state, event, output) => {
  output.record(state.seq, event);
  const active = state.activeTurn;
  const request = active?.approval?.requests.find((item) => item.toolCallId === event.toolCallId);
  if (active === null || request === undefined) return;
  const decision: ApprovalDecision = {
    approved: event.decision === 'approve',
    by: event.userId,
    ...(event.reason === undefined || event.reason === '' ? {} : { reason: event.reason }),
  };
  state.activeTurn = withDecision(active, request.toolCallId, decision);
  output.broadcast(state.participants, decisionFrame(active.turnId, request, decision));
};

/** The deadline passed: every request still open is denied, as if someone had said no. */
export const expireApprovals: ConversationAction = (state, _event, output) => {
  let active = state.activeTurn;
  if (active?.approval === undefined) return;
  const decision: ApprovalDecision = { approved: false, timedOut: true };
  for (const request of active.approval.requests) {
    if (request.decision !== undefined) continue;
    active = withDecision(active, request.toolCallId, decision);
    output.broadcast(state.participants, decisionFrame(active.turnId, request, decision));
  }
  state.activeTurn = active;
};

/** Every request is decided: the turn goes on from its continuation, on a worker again. */
export const resumeAfterApproval: ConversationAction = (state, _event, output) => {
  const active = state.activeTurn;
  if (active?.approval === undefined) return;
  const { approval, ...turn } = active;
  state.activeTurn = turn;
  output.effect({
    type: 'resumeTurn',
    params: {
      turnId: turn.turnId,
      continuation: approval.continuation,
      verdicts: verdictsOf(approval.requests),
    },
  });
};

/** A worker picked the continuation up: the agent is at work again. */
export const announceResumed: ConversationAction<'turn.resumed'> = (state, event, output) => {
  // As for a turn's start: when a continuation that waited gets a worker is the world's choice.
  if (event.queued === true) {
    output.record(state.seq, { type: 'turn.resumed', turnId: event.turnId, jobId: event.jobId });
  }
  agentTyping(state, output, event.turnId, true);
};

function refuse(
  state: ConversationState,
  output: Output,
  event: Extract<ConversationEvent, { type: 'user.tool_approval' }>,
  code: ErrorCode,
  message: string,
) {
  output.record(state.seq, event);
  output.direct(event.connectionId, {
    type: 'error',
    code,
    message,
    in_reply_to: 'tool_approval',
    details: { tool_call_id: event.toolCallId },
  });
}

/** An answer to a call that is not waiting (unknown, decided already, or its turn ended). */
export const refuseApproval: ConversationAction<'user.tool_approval'> = (state, event, output) => {
  refuse(
    state,
    output,
    event,
    'approval_not_pending',
    `Tool call ${event.toolCallId} is not waiting for approval.`,
  );
};

/** An answer from a participant whose role may not approve (a viewer). */
export const refuseApprover: ConversationAction<'user.tool_approval'> = (state, event, output) => {
  refuse(
    state,
    output,
    event,
    'approval_not_allowed',
    'Only the owner and members of the conversation may approve tool calls.',
  );
};

/**
 * At shutdown a turn that waits for approvals is left as it is: nothing of it is running, and the
 * log lets the next process restore it. The turns queued behind it end as `interrupted`.
 */
export const interruptQueuedTurns: ConversationAction = (state, _event, output) => {
  for (const pending of state.pendingTurns) {
    output.effect({ type: 'releaseTurnSlot', params: { userId: pending.userMessage.userId } });
    output.broadcast(state.participants, completion(pending, 'interrupted', {}));
  }
  state.pendingTurns = [];
};
