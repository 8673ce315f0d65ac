import {
  Observable,
  asyncScheduler,
  identity,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';

/**
 * Arrivals must span at least this long before their rate is trusted. An answer that arrives
 * faster (the offline model yields all its words at once, a cached answer comes in one read) is a
 * burst, and a burst is what pacing spreads out; 100 ms holds 10 tokens of a 100 tokens/s stream,
 * enough for an average.
 */
const RATE_WINDOW_MS = 100;

/**
 * Paces tokens so clients see a steady stream, without ever falling behind the source.
 *
 * Each value for which `isToken` holds waits, once it is next in line, for `delayMs`, or for half
 * the source's own interval between tokens when that is shorter. The source's interval is the
 * average over the run the token arrived in (a run ends at any non-token value, e.g. the usage
 * after a model call), trusted once the run's arrivals span 100 ms and `delayMs`. So:
 * - a burst (everything at once, or a source slower than the pace) is spread `delayMs` apart,
 *   exactly as a fixed pace would;
 * - a source faster than the pace is released at twice its own rate, so the backlog built while
 *   its rate was unknown drains, and then each token leaves half an interval after it arrived.
 *   Catching up was chosen over coalescing the backlog into bigger deltas: each delta stays one
 *   chunk frame as the provider sent it, and no merge rule is needed for values of any type.
 *
 * Other values keep their place in the order and pass without delay once the tokens before them
 * are out. Emits every source value, in order; completes when the source has completed and the
 * last token is out; errors as soon as the source errors. With `delayMs` 0 it returns the source
 * unchanged, because a zero delay still costs a timer per token (about 1.2 ms each on Node 20).
 *
 * @example
 * turn$.pipe(paceTokens(30, (event) => event.type === 'text-delta'))
 */
export function paceTokens<T>(
  delayMs: number,
  isToken: (value: T) => boolean,
  scheduler: SchedulerLike = asyncScheduler,
): MonoTypeOperatorFunction<T> {
  if (delayMs <= 0) return identity;
  const trustAfterMs = Math.max(RATE_WINDOW_MS, delayMs);
  // The wait of a token next in line, from the rate of the run it arrived in (which may have
  // ended since: a backlog left when the model call finished drains at that call's rate).
  const waitFor = (run: TokenRun): number => {
    const span = run.latest - run.start;
    if (span < trustAfterMs) return delayMs;
    return Math.min(delayMs, span / run.countBeforeLatest / 2);
  };
  return (source) =>
    new Observable<T>((subscriber) => {
      const queue: { value: T; run: TokenRun | undefined }[] = [];
      let timer: Subscription | undefined;
      let sourceDone = false;
      let run: TokenRun | undefined;

      const release = (): void => {
        timer = undefined;
        subscriber.next((queue.shift() as { value: T }).value);
        drain();
      };

      // Emits the values that are due, and starts the wait of the next token in line.
      const drain = (): void => {
        while (timer === undefined && queue.length > 0) {
          const head = queue[0] as { value: T; run: TokenRun | undefined };
          if (head.run !== undefined) {
            timer = scheduler.schedule(release, waitFor(head.run));
            return;
          }
          queue.shift();
          subscriber.next(head.value);
        }
        if (timer === undefined && sourceDone) subscriber.complete();
      };

      const subscription = source.subscribe({
        next: (value) => {
          if (isToken(value)) {
            const now = scheduler.now();
            if (run === undefined)
              run = { start: now, latest: now, count: 0, countBeforeLatest: 0 };
            else if (now > run.latest) {
              run.latest = now;
              run.countBeforeLatest = run.count;
            }
            run.count += 1;
            queue.push({ value, run });
          } else {
            run = undefined;
            queue.push({ value, run: undefined });
          }
          if (timer === undefined) drain();
        },
        error: (error: unknown) => {
          subscriber.error(error);
        },
        complete: () => {
          sourceDone = true;
          if (timer === undefined) drain();
        },
      });

      return () => {
        timer?.unsubscribe();
        subscription.unsubscribe();
      };
    });
}

/**
 * Token arrivals between two non-token values: when the first came, the latest, how many, and
 * how many came before the latest instant. The average interval is the span over the latter:
 * tokens that arrive together (one network read) add no time, so they must not add gaps either.
 */
interface TokenRun {
  start: number;
  latest: number;
  count: number;
  countBeforeLatest: number;
}
