import { Observable } from 'rxjs';

/**
 * Turns an async iterable that accepts an `AbortSignal` (a model stream, a fetch body) into an
 * Observable. Unsubscribing aborts the signal and calls the iterator's `return()`, so the work
 * behind the iterable really stops, which `from(asyncIterable)` does not guarantee.
 *
 * Emits each item; completes when the iterable ends; errors when it throws.
 *
 * @example
 * fromAbortableIterable((signal) => model.stream(request, { signal }))
 */
export function fromAbortableIterable<T>(
  factory: (signal: AbortSignal) => AsyncIterable<T>,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    const iterator = factory(controller.signal)[Symbol.asyncIterator]();
    let done = false;
    const pump = async (): Promise<void> => {
      for (;;) {
        const result = await iterator.next();
        if (subscriber.closed) return;
        if (result.done === true) {
          done = true;
          subscriber.complete();
          return;
        }
        subscriber.next(result.value);
      }
    };
    pump().catch((error: unknown) => {
      done = true;
      if (!subscriber.closed) subscriber.error(error);
    });
    return () => {
      if (done) return;
      controller.abort(new DOMException('The stream was unsubscribed.', 'AbortError'));
      // return() settles a suspended generator; its rejection (if any) has no one to tell.
      iterator.return?.().catch(() => undefined);
    };
  });
}
