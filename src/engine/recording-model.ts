import type { SchedulerLike } from 'rxjs';
import type { LanguageModel, ModelCallOptions, ModelStreamPart } from '../agent/model.js';

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
    stream(request, options) {
      const callOptions = onRetry === undefined ? options : { ...options, onRetry };
      // The call opens at its first read, as an async generator's body would run.
      return new RecordingStream(
        () => {
          step += 1;
          return { step, parts: model.stream(request, callOptions) };
        },
        record,
        scheduler,
        options,
      );
    },
  };
}

/**
 * One recorded model call, as an async iterator of its own rather than an async generator: a
 * generator wrapped around the model's stream costs two more promises and microtasks per part,
 * and this runs for every token (`npx tsx bench/compare-builds.ts … --concurrent`).
 */
class RecordingStream implements AsyncIterableIterator<ModelStreamPart> {
  readonly #open: () => { step: number; parts: AsyncIterable<ModelStreamPart> };
  readonly #record: ModelPartRecorder;
  readonly #scheduler: SchedulerLike;
  readonly #options: ModelCallOptions;
  #parts: AsyncIterator<ModelStreamPart> | undefined;
  #step = 0;
  #startedAt = 0;
  #done = false;

  constructor(
    open: () => { step: number; parts: AsyncIterable<ModelStreamPart> },
    record: ModelPartRecorder,
    scheduler: SchedulerLike,
    options: ModelCallOptions,
  ) {
    this.#open = open;
    this.#record = record;
    this.#scheduler = scheduler;
    this.#options = options;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ModelStreamPart>> {
    if (this.#done) return Promise.resolve({ done: true, value: undefined });
    let parts = this.#parts;
    if (parts === undefined) {
      this.#startedAt = this.#scheduler.now();
      try {
        const opened = this.#open();
        this.#step = opened.step;
        parts = this.#parts = opened.parts[Symbol.asyncIterator]();
      } catch (error) {
        // Rejected, as a generator's first read would be.
        return Promise.resolve().then(() => this.#failed(error));
      }
    }
    return parts.next().then(this.#onResult, this.#onError);
  }

  return(): Promise<IteratorResult<ModelStreamPart>> {
    const wasDone = this.#done;
    this.#done = true;
    const parts = this.#parts;
    if (wasDone || parts?.return === undefined) {
      return Promise.resolve({ done: true, value: undefined });
    }
    return parts.return().then(() => ({ done: true, value: undefined }));
  }

  readonly #onResult = (
    result: IteratorResult<ModelStreamPart>,
  ): IteratorResult<ModelStreamPart> => {
    if (result.done === true) {
      this.#done = true;
      return result;
    }
    try {
      this.#record(this.#step, this.#scheduler.now() - this.#startedAt, result.value);
    } catch (error) {
      return this.#failed(error);
    }
    return result;
  };

  readonly #onError = (error: unknown): never => this.#failed(error);

  /**
   * A model that throws is recorded as an error part, so a replay fails the same way. Throws
   * inside a `then` callback, which rejects the read.
   */
  #failed(error: unknown): never {
    this.#done = true;
    if (!this.#options.signal.aborted) {
      this.#record(this.#step, this.#scheduler.now() - this.#startedAt, { type: 'error', error });
    }
    // The model's own error, unchanged, as the generator this replaces rethrew it.
    throw error;
  }
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
