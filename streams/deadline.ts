import { Observable, asyncScheduler, type OperatorFunction, type SchedulerLike } from 'rxjs';

/**
 * Bounds a whole stream in time (unlike `timeout`, which bounds the gap between values). When
 * `ms` passes before the source completes, the source is unsubscribed (its teardown runs, which
 * aborts its work), `onDeadline()` is emitted and the result completes.
 *
 * Emits the source's values, then at most one `onDeadline()` value. Completes with the source or
 * at the deadline; errors when the source errors first.
 *
 * @example
 * turn$.pipe(deadline(30_000, () => ({ type: 'finish', status: 'timed_out' })))
 */
export function deadline<T, TDeadline>(
  ms: number,
  onDeadline: () => TDeadline,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<T, T | TDeadline> {
  return (source) =>
    new Observable<T | TDeadline>((subscriber) => {
      const timer = scheduler.schedule(() => {
        sourceSubscription.unsubscribe();
        subscriber.next(onDeadline());
        subscriber.complete();
      }, ms);
      const sourceSubscription = source.subscribe({
        next: (value) => {
          subscriber.next(value);
        },
        error: (error: unknown) => {
          timer.unsubscribe();
          subscriber.error(error);
        },
        complete: () => {
          timer.unsubscribe();
          subscriber.complete();
        },
      });
      return () => {
        timer.unsubscribe();
        sourceSubscription.unsubscribe();
      };
    });
}
