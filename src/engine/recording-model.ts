import type { SchedulerLike } from 'rxjs';
import type { LanguageModel, ModelStreamPart } from '../agent/model.js';

/** Receives each part of each model call of one turn, with its offset from the call's start. */
export type ModelPartRecorder = (step: number, offsetMs: number, part: ModelStreamPart) => void;

/**
 * Wraps a model so every part it streams is recorded (for the event log) before the turn sees
 * it, and tells `onRetry` when the model retries a call. One wrapper serves one turn: `step` counts its model calls from 1, or on from `stepsDone`
 * for the continuation of a turn that waited for approvals.
 *
 * @example
 * const model = recordingModel(baseModel, (step, offset, part) => log.append(...), scheduler);
 */
export function recordingModel(
  model: LanguageModel,
  record: ModelPartRecorder,
  scheduler: SchedulerLike,
  stepsDone = 0,
  onRetry?: (code: string) => void,
): LanguageModel {
  let step = stepsDone;
  return {
    specificationVersion: model.specificationVersion,
    provider: model.provider,
    modelId: model.modelId,
    async *stream(request, options) {
      step += 1;
      const thisStep = step;
      const startedAt = scheduler.now();
      try {
        const callOptions = onRetry === undefined ? options : { ...options, onRetry };
        for await (const part of model.stream(request, callOptions)) {
          record(thisStep, scheduler.now() - startedAt, part);
          yield part;
        }
      } catch (error) {
        // A model that throws is recorded as an error part, so a replay fails the same way.
        if (!options.signal.aborted) {
          record(thisStep, scheduler.now() - startedAt, { type: 'error', error });
        }
        throw error;
      }
    },
  };
}

/** A stream part as plain JSON (an error part's `error` becomes its message). */
export function serializablePart(
  part: ModelStreamPart,
): Record<string, unknown> & { type: string } {
  if (part.type !== 'error') return { ...part };
  const error = part.error;
  return {
    type: 'error',
    error: { message: error instanceof Error ? error.message : String(error) },
  };
}
