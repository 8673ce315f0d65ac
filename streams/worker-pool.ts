import {
  EMPTY,
  Subject,
  catchError,
  defer,
  finalize,
  mergeMap,
  take,
  takeUntil,
  type Observable,
  type Subscription,
} from 'rxjs';

/** A unit of work for the {@link WorkerPool}. */
export interface PoolJob {
  /** Unique id, used by `cancel`. */
  readonly id: string;
  /** Called when a worker slot picks the job up, right before `run`. */
  onStart?(): void;
  /** The work. Subscribed once; its values are discarded (use `tap` to act on them). */
  run(): Observable<unknown>;
  /** Called once when the job leaves the pool, however it ended. */
  onEnd?(outcome: 'completed' | 'cancelled' | 'failed', error?: unknown): void;
}

/** Options for {@link createWorkerPool}. */
export interface WorkerPoolOptions {
  /** Jobs running at once. @default 10 */
  concurrency: number;
  /** Jobs that may wait for a slot; `reserve()` refuses one more. @default 100 */
  maxWaiting: number;
}

/** A bounded pool of workers over one `jobs$` stream. */
export interface WorkerPool {
  /**
   * Claims a waiting place for a job about to be submitted; false when the queue is full. With
   * `force`, claims one beyond `maxWaiting` (for work admitted earlier that must not be refused,
   * such as a turn going on after an approval): new work is then refused until it drains.
   */
  reserve(options?: { force?: boolean }): boolean;
  /** Gives back a place claimed by `reserve` whose job will never be submitted. */
  release(): void;
  /** Submits a job that holds a reservation. */
  submit(job: PoolJob): void;
  /** Stops a waiting or running job (its teardown runs); false when the id is unknown. */
  cancel(jobId: string): boolean;
  readonly running: number;
  readonly waiting: number;
  readonly maxWaiting: number;
  /** Resolves when nothing runs and nothing waits. */
  whenIdle(): Promise<void>;
  /** Stops every job and the pool itself. */
  close(): void;
}

interface Entry {
  job: PoolJob;
  cancel$: Subject<void>;
  cancelled: boolean;
}

/**
 * Creates the worker pool: one `jobs$` Subject drained by `mergeMap(run, concurrency)`. Each job
 * has its own `catchError`, so a failing job never ends the pool, and its own cancel signal. The
 * waiting queue is bounded: callers `reserve()` a place before `submit`, and a full queue is a
 * refusal the caller reports (`busy`), never a silent drop.
 *
 * @example
 * const pool = createWorkerPool({ concurrency: 10, maxWaiting: 100 });
 * if (pool.reserve()) pool.submit({ id: 'turn_1', run: () => runTurn(job) });
 */
export function createWorkerPool({ concurrency, maxWaiting }: WorkerPoolOptions): WorkerPool {
  const jobs$ = new Subject<Entry>();
  const entries = new Map<string, Entry>();
  const idle$ = new Subject<void>();
  let running = 0;
  let waiting = 0;

  const notifyIfIdle = () => {
    if (running === 0 && waiting === 0) idle$.next();
  };

  const subscription: Subscription = jobs$
    .pipe(
      mergeMap(
        (entry) =>
          defer(() => {
            waiting -= 1;
            if (entry.cancelled) {
              entries.delete(entry.job.id);
              entry.job.onEnd?.('cancelled');
              notifyIfIdle();
              return EMPTY;
            }
            running += 1;
            let outcome: 'completed' | 'cancelled' | 'failed' = 'completed';
            let failure: unknown;
            entry.job.onStart?.();
            // Inside defer, so a run() that throws is caught below like a failing stream.
            return defer(() => entry.job.run()).pipe(
              takeUntil(entry.cancel$),
              catchError((error: unknown) => {
                outcome = 'failed';
                failure = error;
                return EMPTY;
              }),
              finalize(() => {
                running -= 1;
                entries.delete(entry.job.id);
                entry.job.onEnd?.(entry.cancelled ? 'cancelled' : outcome, failure);
                notifyIfIdle();
              }),
            );
          }),
        concurrency,
      ),
    )
    .subscribe();

  return {
    reserve(options) {
      if (waiting >= maxWaiting && options?.force !== true) return false;
      waiting += 1;
      return true;
    },
    release() {
      waiting = Math.max(0, waiting - 1);
      notifyIfIdle();
    },
    submit(job) {
      const entry: Entry = { job, cancel$: new Subject<void>(), cancelled: false };
      entries.set(job.id, entry);
      jobs$.next(entry);
    },
    cancel(jobId) {
      const entry = entries.get(jobId);
      if (entry === undefined) return false;
      entry.cancelled = true;
      entry.cancel$.next();
      return true;
    },
    get running() {
      return running;
    },
    get waiting() {
      return waiting;
    },
    maxWaiting,
    whenIdle() {
      if (running === 0 && waiting === 0) return Promise.resolve();
      return new Promise((resolve) => {
        idle$.pipe(take(1)).subscribe(() => {
          resolve();
        });
      });
    },
    close() {
      // Mark every job first: a running job that stops hands its slot to a waiting one, which
      // must find itself cancelled rather than start.
      const all = [...entries.values()];
      for (const entry of all) entry.cancelled = true;
      for (const entry of all) entry.cancel$.next();
      subscription.unsubscribe();
    },
  };
}
