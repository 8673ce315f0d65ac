import type { TurnEffects } from '../engine.js';
import { ParleyError, type ErrorCode } from '../errors.js';
import type { LanguageModel, ModelStreamPart } from '../agent/model.js';
import { modelParts, type LogEntry, type RecordedModelPart } from '../event-log/log-entry.js';
import type { VirtualClock } from './virtual-clock.js';

type PartEntry = RecordedModelPart;
type OutcomeEntry = Extract<LogEntry, { kind: 'tool.outcome' }>;

/**
 * The model and tools of a recording: each turn's model calls stream the recorded parts at their
 * recorded offsets, and each tool call ends as it ended then, after the same (virtual) time; a
 * call waits for approval when the recording asked for it (a `tool_approval_request` frame). No
 * network, no real tools.
 *
 * @example
 * createEngine({ ..., turnEffects: recordedTurnEffects(recording.entries, clock, model) });
 */
export function recordedTurnEffects(
  entries: readonly LogEntry[],
  clock: VirtualClock,
  identity: { provider: string; modelId: string },
): (turnId: string, stepsDone?: number) => TurnEffects {
  const parts = new Map<string, PartEntry[]>();
  const outcomes = new Map<string, OutcomeEntry['outcome']>();
  const approvalRequested = new Set<string>();
  for (const entry of entries) {
    if (entry.kind === 'frame' && entry.frame.type === 'tool_approval_request') {
      approvalRequested.add(`${String(entry.frame.turn_id)}#${String(entry.frame.tool_call_id)}`);
    }
    if (entry.kind === 'tool.outcome') {
      outcomes.set(`${entry.turn_id}#${entry.tool_call_id}`, entry.outcome);
    }
  }

  for (const part of modelParts(entries)) {
    const key = `${part.turn_id}#${part.step}`;
    const list = parts.get(key);
    if (list === undefined) parts.set(key, [part]);
    else list.push(part);
  }

  return (turnId, stepsDone = 0) => {
    // A turn's continuation after approvals goes on with the model calls after the pause.
    let step = stepsDone;
    const model: LanguageModel = {
      specificationVersion: 'parley.model.v1',
      provider: identity.provider,
      modelId: identity.modelId,
      async *stream(_request, { signal }) {
        step += 1;
        const recorded = parts.get(`${turnId}#${step}`);
        if (recorded === undefined) {
          throw new ParleyError(
            'model_failed',
            `The recording has no model call ${step} for turn ${turnId}.`,
          );
        }
        let elapsed = 0;
        for (const entry of recorded) {
          if (entry.offset_ms > elapsed) {
            await clock.sleep(entry.offset_ms - elapsed);
            elapsed = entry.offset_ms;
          }
          if (signal.aborted) return;
          yield toPart(entry.part);
        }
      },
    };
    return {
      model,
      needsApproval: (call) => approvalRequested.has(`${turnId}#${call.toolCallId}`),
      executeTool: async (_name, _input, signal, toolCallId) => {
        const outcome = outcomes.get(`${turnId}#${toolCallId}`);
        if (outcome === undefined) {
          throw new ParleyError(
            'tool_failed',
            `The recording has no outcome for tool call ${toolCallId} of turn ${turnId}.`,
          );
        }
        if (!outcome.ok && outcome.error.code === 'tool_timeout') {
          // It timed out then: it never answers now either, and the same timeout fires.
          return new Promise<never>((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              reject(signal.reason as Error);
            });
          });
        }
        await clock.sleep(outcome.durationMs);
        if (outcome.ok) return outcome.output;
        throw new ParleyError(outcome.error.code as ErrorCode, outcome.error.message);
      },
    };
  };
}

function toPart(part: Record<string, unknown>): ModelStreamPart {
  if (part.type === 'error') {
    const error = part.error as { message?: string } | undefined;
    return { type: 'error', error: new Error(error?.message ?? 'model error') };
  }
  return part as ModelStreamPart;
}
