import {
  Observable,
  asyncScheduler,
  catchError,
  map,
  of,
  throwError,
  timeout,
  type SchedulerLike,
} from 'rxjs';
import { ParleyError, toParleyError, type ErrorCode } from '../src/errors.js';

/** How one tool call ended. */
export type ToolCallOutcome =
  | { ok: true; output: unknown; durationMs: number }
  | { ok: false; error: { code: ErrorCode; message: string }; durationMs: number };

/** Options for {@link runToolCall}. */
export interface RunToolCallOptions {
  /** Time allowed for the call. @default 10_000 */
  timeoutMs: number;
  /** The clock used for the timeout and for `durationMs`. @default asyncScheduler */
  scheduler?: SchedulerLike;
}

/**
 * Runs one tool call as an Observable bounded by the `timeout` operator. The call gets an
 * `AbortSignal` that is aborted when the Observable is torn down, so a call that times out (or
 * whose turn is cancelled) really stops. Failures never escape: they become an outcome with
 * `ok: false` and a stable code (`tool_timeout`, `tool_failed`, …) that the model can read.
 *
 * Emits exactly one outcome, then completes.
 *
 * @example
 * runToolCall((signal) => registry.execute('weather', { location: 'Paris' }, { signal, now }), {
 *   timeoutMs: 10_000,
 * })
 */
export function runToolCall(
  execute: (signal: AbortSignal) => Promise<unknown>,
  { timeoutMs, scheduler = asyncScheduler }: RunToolCallOptions,
): Observable<ToolCallOutcome> {
  return new Observable<ToolCallOutcome>((subscriber) => {
    const startedAt = scheduler.now();
    const elapsed = () => Math.max(0, scheduler.now() - startedAt);
    const subscription = callAbortably(execute)
      .pipe(
        timeout({
          first: timeoutMs,
          scheduler,
          with: () =>
            throwError(
              () =>
                new ParleyError('tool_timeout', `The tool did not finish within ${timeoutMs} ms.`),
            ),
        }),
        map((output): ToolCallOutcome => ({ ok: true, output, durationMs: elapsed() })),
        catchError((error: unknown) => {
          const failure = toParleyError(error, 'tool_failed');
          return of<ToolCallOutcome>({
            ok: false,
            error: { code: failure.code, message: failure.message },
            durationMs: elapsed(),
          });
        }),
      )
      .subscribe(subscriber);
    return subscription;
  });
}

/** A promise-returning call as an Observable whose teardown aborts the call's signal. */
function callAbortably(execute: (signal: AbortSignal) => Promise<unknown>): Observable<unknown> {
  return new Observable<unknown>((subscriber) => {
    const controller = new AbortController();
    let settled = false;
    Promise.resolve()
      .then(() => {
        // Torn down before this microtask ran (cancelled in the same tick): never start the tool.
        if (controller.signal.aborted) throw controller.signal.reason;
        return execute(controller.signal);
      })
      .then(
        (value) => {
          settled = true;
          subscriber.next(value);
          subscriber.complete();
        },
        (error: unknown) => {
          settled = true;
          subscriber.error(error);
        },
      );
    return () => {
      // The reason is neutral: the call may have timed out or its turn may have been cancelled.
      if (!settled) controller.abort(new DOMException('The tool call was stopped.', 'AbortError'));
    };
  });
}
