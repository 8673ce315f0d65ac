/**
 * A model wrapper for live chat over a real provider: retries only while nothing of the answer
 * exists, and deadlines for the first byte and between chunks, so a stalled provider never holds
 * a turn until its total deadline.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type {
  LanguageModel,
  LanguageModelV2,
  ModelRequest,
  ModelStreamPart,
} from '../agent/model.js';
import { upgradeModel } from '../agent/upgrade-model.js';
import { ParleyError } from '../errors.js';
import type { Logger } from '../logger.js';
import { toProviderError, type ProviderErrorDetails } from './provider-error.js';
import { backoffDelayMs } from './retry-delay.js';

/** Options of {@link resilientModel}. */
export interface ResilienceOptions {
  /** Retries of a call that failed before any output (429, 5xx, connection refused). @default 2 */
  maxRetries?: number;
  /** Backoff of the first retry (full jitter, doubling). @default 500 */
  baseDelayMs?: number;
  /** Longest backoff. @default 8_000 */
  maxDelayMs?: number;
  /** A provider asking (`retry-after`) for a longer wait than this is not retried. @default 20_000 */
  maxRetryAfterMs?: number;
  /** Time from the request to the first part of its answer; 0 disables. @default 60_000 */
  firstByteTimeoutMs?: number;
  /** Time allowed between two parts of an answer; 0 disables. @default 30_000 */
  idleTimeoutMs?: number;
  /** Strings never to show in an error message or log line (the API key). @default [] */
  secrets?: readonly string[];
  /** Receives a `warn` line per retry (code, status, attempt, delay; never a secret). */
  logger?: Pick<Logger, 'warn'>;
  /** Clock for deadlines and backoff. @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
}

const TIMED_OUT = Symbol('timed out');

/**
 * Wraps `model` (any contract version) so that each call:
 * - is retried with exponential backoff and jitter, honouring `retry-after`, when it fails with a
 *   retryable error before any answer part (text, reasoning, tool input, tool call) came; the
 *   parts it held back meanwhile (response metadata) are dropped with the failed attempt;
 * - fails with `provider_timeout` when the first part takes longer than `firstByteTimeoutMs`, or
 *   the gap between two parts exceeds `idleTimeoutMs` (a timeout is not retried: it already
 *   cost its deadline); the request is aborted, which closes its connection;
 * - once the answer has started, ends at the first failure with one `error` part, so the turn
 *   fails and keeps its partial text.
 *
 * @example
 * const model = resilientModel(fromSpecificationModel(openai.chat('gpt-4o-mini')), { logger });
 */
export function resilientModel(
  model: LanguageModel,
  options: ResilienceOptions = {},
): LanguageModelV2 {
  const inner = upgradeModel(model);
  return {
    specificationVersion: 'parley.model.v2',
    provider: inner.provider,
    modelId: inner.modelId,
    stream: (request, { signal, onRetry }) =>
      resilientStream(inner, request, signal, options, onRetry),
  };
}

async function* resilientStream(
  model: LanguageModelV2,
  request: ModelRequest,
  signal: AbortSignal,
  options: ResilienceOptions,
  onRetry: ((code: string) => void) | undefined,
): AsyncGenerator<ModelStreamPart> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const maxRetries = options.maxRetries ?? 2;
  // A function, so the check after each await reads the signal anew (TypeScript would keep the
  // narrowing of a property read).
  const aborted = (): boolean => signal.aborted;
  for (let attempt = 0; ; attempt += 1) {
    // An abort listener added now would never fire for a signal that has already aborted.
    if (aborted()) return;
    const controller = new AbortController();
    const abort = (): void => {
      controller.abort(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    const iterator = model.stream(request, { signal: controller.signal })[Symbol.asyncIterator]();
    const heldBack: ModelStreamPart[] = [];
    let received = false;
    let answered = false;
    let ended = false;
    let failure: ParleyError | undefined;
    try {
      for (;;) {
        const next = await within(
          iterator.next(),
          received ? (options.idleTimeoutMs ?? 30_000) : (options.firstByteTimeoutMs ?? 60_000),
          scheduler,
        );
        if (next === TIMED_OUT) {
          failure = timeout(received, options);
          break;
        }
        if (next.done === true) {
          ended = true;
          break;
        }
        // Parts already buffered when the caller aborted are of no use to it.
        if (aborted()) return;
        received = true;
        const part = next.value;
        if (part.type === 'error') {
          failure = toProviderError(part.error, { secrets: options.secrets ?? [] });
          break;
        }
        // An empty delta (OpenAI opens with `content: ""`) says nothing, so it starts nothing.
        if ((part.type === 'text-delta' || part.type === 'reasoning-delta') && part.delta === '') {
          continue;
        }
        if (!answered && part.type === 'response-metadata') {
          heldBack.push(part);
          continue;
        }
        if (!answered) {
          answered = true;
          yield* heldBack;
        }
        yield part;
      }
    } catch (error) {
      if (aborted()) return;
      failure = toProviderError(error, { secrets: options.secrets ?? [] });
    } finally {
      signal.removeEventListener('abort', abort);
      // Stopped early (a failure, a timeout, or the consumer went away): close the request.
      if (!ended) {
        controller.abort(new DOMException('The model call was abandoned.', 'AbortError'));
        iterator.return?.().catch(() => undefined);
      }
    }
    if (aborted()) return;
    if (failure === undefined) {
      if (!answered) yield* heldBack;
      return;
    }
    const delayMs = answered ? undefined : retryDelay(failure, attempt, maxRetries, options);
    if (delayMs === undefined) {
      yield { type: 'error', error: failure };
      return;
    }
    options.logger?.warn(
      {
        provider: model.provider,
        model_id: model.modelId,
        code: failure.code,
        status: (failure.details as ProviderErrorDetails | undefined)?.status,
        attempt: attempt + 1,
        delay_ms: delayMs,
      },
      'model call failed before its answer began; retrying',
    );
    onRetry?.(failure.code);
    if (!(await sleep(delayMs, scheduler, signal))) return;
  }
}

/** The wait before the next attempt, or undefined when this failure is final. */
function retryDelay(
  failure: ParleyError,
  attempt: number,
  maxRetries: number,
  options: ResilienceOptions,
): number | undefined {
  const details = failure.details as Partial<ProviderErrorDetails> | undefined;
  if (details?.retryable !== true || attempt >= maxRetries) return undefined;
  const asked = details.retryAfterMs;
  if (asked !== undefined) return asked <= (options.maxRetryAfterMs ?? 20_000) ? asked : undefined;
  return backoffDelayMs(attempt + 1, {
    ...(options.baseDelayMs === undefined ? {} : { baseDelayMs: options.baseDelayMs }),
    ...(options.maxDelayMs === undefined ? {} : { maxDelayMs: options.maxDelayMs }),
    ...(options.random === undefined ? {} : { random: options.random }),
  });
}

function timeout(received: boolean, options: ResilienceOptions): ParleyError {
  const message = received
    ? `The provider went silent for ${options.idleTimeoutMs ?? 30_000} ms mid-answer (idle deadline).`
    : `The provider sent nothing within ${options.firstByteTimeoutMs ?? 60_000} ms (first-byte deadline).`;
  return new ParleyError('provider_timeout', message, { details: { retryable: false } });
}

/** `promise`, or TIMED_OUT when `ms` passes first (0 or less: no deadline). */
function within<T>(
  promise: Promise<T>,
  ms: number,
  scheduler: SchedulerLike,
): Promise<T | typeof TIMED_OUT> {
  if (ms <= 0) return promise;
  return new Promise((resolve, reject) => {
    const timer = scheduler.schedule(() => {
      resolve(TIMED_OUT);
    }, ms);
    promise.then(
      (value) => {
        timer.unsubscribe();
        resolve(value);
      },
      (error: unknown) => {
        timer.unsubscribe();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Waits `ms`; resolves false at once when `signal` aborts first. */
function sleep(ms: number, scheduler: SchedulerLike, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.unsubscribe();
      resolve(false);
    };
    const timer = scheduler.schedule(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
