/**
 * Reads back, after a restart, a turn that was waiting for participants to approve its tool calls:
 * its requests and the answers they got (from their frames), and the continuation the turn goes
 * on from (its model context, rebuilt from the model parts and tool outcomes the log recorded,
 * exactly as the turn had built it).
 */
import type {
  ActiveTurn,
  ApprovalDecision,
  ApprovalRequest,
  PendingApproval,
} from '../../actors/conversation-state.js';
import type { ModelMessage, ModelToolCall, ModelUsage } from '../agent/model.js';
import type { EventStore } from '../event-log/event-store.js';
import { modelParts, type FrameEntry, type LogEntry } from '../event-log/log-entry.js';

/** Most approval frames read back for one turn. */
const MAX_APPROVAL_FRAMES = 10_000;

/** What one model call of the turn produced, as the log recorded its parts. */
interface RecordedStep {
  text: string;
  toolCalls: ModelToolCall[];
}

/**
 * The turn a user message started, if it still waits for approvals (a request without a
 * decision, and no completion, which the caller has checked): its active turn as the conversation
 * held it, with `waitMs` set to what is left of the deadline at `now` (0 when it passed).
 *
 * @example
 * const awaiting = await restoreAwaitedTurn(store, 'demo', userMessageEntry, history, Date.now());
 */
export async function restoreAwaitedTurn(
  store: EventStore,
  conversationId: string,
  userMessage: FrameEntry,
  history: readonly ModelMessage[],
  now: number,
): Promise<(ActiveTurn & { approval: PendingApproval }) | undefined> {
  const turnId = String(userMessage.frame.turn_id);
  const approvalFrames = (
    await store.readFrames(conversationId, {
      after: userMessage.seq,
      limit: MAX_APPROVAL_FRAMES,
      types: ['tool_approval_request', 'tool_approval_decision'],
    })
  ).filter((entry) => entry.frame.turn_id === turnId);
  const decisions = new Map(
    approvalFrames
      .filter((entry) => entry.frame.type === 'tool_approval_decision')
      .map((entry) => [String(entry.frame.tool_call_id), decisionOf(entry.frame)]),
  );
  const requestFrames = approvalFrames.filter(
    (entry) => entry.frame.type === 'tool_approval_request',
  );
  if (requestFrames.every((entry) => decisions.has(String(entry.frame.tool_call_id)))) {
    return undefined;
  }

  const entries = await store.readEntries(conversationId, {
    afterPosition: userMessage.position,
  });
  const { steps, usage } = recordedSteps(entries, turnId);
  const last = steps.at(-1);
  if (last === undefined) return undefined;
  const pausedIds = new Set(last.toolCalls.map((call) => call.toolCallId));
  const requests: ApprovalRequest[] = requestFrames
    .filter((entry) => pausedIds.has(String(entry.frame.tool_call_id)))
    .map((entry) => {
      const toolCallId = String(entry.frame.tool_call_id);
      const decision = decisions.get(toolCallId);
      return {
        toolCallId,
        toolName: String(entry.frame.tool_name),
        input: entry.frame.arguments,
        ...(decision === undefined ? {} : { decision }),
      };
    });
  const deadline = Number(requestFrames.at(-1)?.frame.deadline ?? now);
  const userMessageText: Extract<ModelMessage, { role: 'user' }> = {
    role: 'user',
    content: String(userMessage.frame.content),
    userId: String(userMessage.frame.user_id),
  };
  const chunks = entries.filter(
    (entry): entry is FrameEntry =>
      entry.kind === 'frame' &&
      entry.frame.type === 'agent_response_chunk' &&
      entry.frame.turn_id === turnId,
  );
  return {
    turnId,
    userMessage: userMessageText,
    // With nothing streamed yet, the answer's id was never logged: one made from the turn's.
    agentMessageId:
      chunks[0] === undefined ? `message_${turnId}` : String(chunks[0].frame.message_id),
    text: chunks.map((entry) => String(entry.frame.delta)).join(''),
    chunkIndex: chunks.length,
    usage,
    toolsInFlight: last.toolCalls.length,
    approval: {
      continuation: {
        messages: [...history, userMessageText, ...modelContext(steps, entries, turnId)],
        toolCalls: last.toolCalls,
        approvalNeeded: requests.map((request) => request.toolCallId),
        steps: steps.length,
      },
      requests,
      deadline,
      waitMs: Math.max(0, deadline - now),
    },
  };
}

/** Each model call of the turn (text and tool calls) and the usage they add up to. */
function recordedSteps(
  entries: readonly LogEntry[],
  turnId: string,
): { steps: RecordedStep[]; usage: ModelUsage } {
  const steps: RecordedStep[] = [];
  const usage = { inputTokens: 0, outputTokens: 0 };
  for (const entry of modelParts(entries)) {
    if (entry.turn_id !== turnId) continue;
    const step = (steps[entry.step - 1] ??= { text: '', toolCalls: [] });
    const { part } = entry;
    if (part.type === 'text-delta') step.text += String(part.delta);
    if (part.type === 'tool-call') {
      step.toolCalls.push({
        toolCallId: String(part.toolCallId),
        toolName: String(part.toolName),
        input: part.input,
      });
    }
    if (part.type === 'finish') {
      const counts = part.usage as Partial<ModelUsage> | undefined;
      usage.inputTokens += counts?.inputTokens ?? 0;
      usage.outputTokens += counts?.outputTokens ?? 0;
    }
  }
  return { steps, usage };
}

/**
 * The messages the turn added to its model context: per model call, the assistant message with
 * its calls, then (but for the paused call) their results, as `runTurn` builds them.
 */
function modelContext(
  steps: readonly RecordedStep[],
  entries: readonly LogEntry[],
  turnId: string,
): ModelMessage[] {
  const outcomes = new Map<string, Extract<LogEntry, { kind: 'tool.outcome' }>['outcome']>();
  for (const entry of entries) {
    if (entry.kind === 'tool.outcome' && entry.turn_id === turnId) {
      outcomes.set(entry.tool_call_id, entry.outcome);
    }
  }
  return steps.flatMap((step, index): ModelMessage[] => {
    const assistant: ModelMessage = {
      role: 'assistant',
      content: step.text,
      toolCalls: step.toolCalls,
    };
    if (index === steps.length - 1) return [assistant];
    return [
      assistant,
      ...step.toolCalls.map((call): ModelMessage => {
        const outcome = outcomes.get(call.toolCallId);
        return {
          role: 'tool',
          toolCallId: call.toolCallId,
          toolName: call.toolName,
          output:
            outcome === undefined
              ? { error: { code: 'tool_failed', message: 'The result was not recorded.' } }
              : outcome.ok
                ? outcome.output
                : { error: outcome.error },
          isError: outcome?.ok !== true,
        };
      }),
    ];
  });
}

function decisionOf(frame: FrameEntry['frame']): ApprovalDecision {
  return {
    approved: frame.decision === 'approved',
    ...(typeof frame.decided_by === 'string' ? { by: frame.decided_by } : {}),
    ...(typeof frame.reason === 'string' ? { reason: frame.reason } : {}),
    ...(frame.timed_out === true ? { timedOut: true as const } : {}),
  };
}
