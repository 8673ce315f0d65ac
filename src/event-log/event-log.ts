/**
 * The event log's writer on the hot path: positions entries synchronously, writes them to the
 * store in batches (everything appended in one tick is one transaction), and tells callers when
 * what they appended is durable, so that a frame is sent only once the log has it. A batch the
 * store refuses is held and retried with backoff until it is written: nothing is ever given up
 * while the log is open, so nothing is sent that the log does not have.
 *
 * Over 300 lines because about a third is the interface's documentation of its ordering and
 * failure guarantees, which callers rely on; the logic itself is one batching loop.
 */
import { ParleyError } from '../errors.js';
import type { EventStore } from './event-store.js';
import { createStatusCell, type EventLogStatus } from './event-log-status.js';
import { LOG_ENTRY_VERSION, type LogEntry, type NewLogEntry } from './log-entry.js';

/** Options for {@link createEventLog}. */
export interface EventLogOptions {
  store: EventStore;
  /** Most entries per `store.append` call. @default 1000 */
  maxBatch?: number;
  /**
   * Most entries appended but not yet durable; past it `append` throws a `log_unavailable`
   * {@link ParleyError} and queues nothing, so a stalled store cannot exhaust memory.
   * @default 200_000
   */
  maxPending?: number;
  /**
   * Told when a batch could not be written (a `log_unavailable` {@link ParleyError} with the
   * store's error as `cause`: at the first failure of a run of failures, and when the log is
   * closed with batches still held), when the store fences conversations off (`cluster_fenced`),
   * and when an `afterDurable` callback throws. @default writes to `console.error`
   */
  onError?: (error: unknown) => void;
  /**
   * Waits before each retry of a batch the store refused; the last one repeats until the store
   * takes the batch. @default [10, 50, 200, 1000, 2000, 5000]
   */
  retryDelaysMs?: readonly number[];
  /** The clock of {@link EventLogStatus}'s `since`. @default Date.now */
  now?: () => number;
  /**
   * Told after each batch the store took (its entries, and the seconds from its first attempt,
   * retries included), and after each attempt the store refused, with the error (a batch refused
   * because conversations were fenced off too). For metrics. @default none
   */
  onBatch?: (entries: number, seconds: number, error?: unknown) => void;
}

/**
 * The batching writer in front of an {@link EventStore}.
 *
 * A batch the store rejects is held and retried (see {@link EventLogOptions.retryDelaysMs}) until
 * the store takes it: meanwhile the log is `degraded` ({@link EventLog.status}), later appends
 * queue behind it (up to `maxPending`), and no callback waiting for it runs. When the store
 * recovers, the held batches are written in order and their callbacks run: nothing was sent that
 * the log does not have, and no position is skipped. Two exceptions, both ending in "not
 * written" (`afterDurable` callbacks get `false`): entries of a conversation the store fenced
 * off (`cluster_fenced`: another instance owns it), and batches still held when the log is closed.
 */
export interface EventLog {
  readonly store: EventStore;
  /**
   * Loads a conversation's last position and seq so appends continue without a gap; must be
   * awaited before the first append for that conversation. Idempotent.
   */
  open(conversationId: string): Promise<{ lastPosition: number; lastSeq: number }>;
  /**
   * Synchronous: gives each entry `v: LOG_ENTRY_VERSION` and the next position, queues it, schedules a flush
   * (process.nextTick for a loop turn's first batch, its check phase for later ones, so every
   * entry appended in one tick goes in one transaction, and a busy turn's ticks share one), returns the
   * positioned entries. Throws if the conversation was not opened, or if `maxPending` would be
   * exceeded (then nothing is queued).
   */
  append(conversationId: string, entries: readonly NewLogEntry[]): LogEntry[];
  /**
   * Runs `callback` once everything appended before this call is durable, or settled otherwise:
   * `written` is false when some of it was not written (the log was closed while the store was
   * failing); callbacks run in the order given, including those registered from inside a
   * callback. Immediately (synchronously) if nothing is pending and no callback is waiting.
   */
  afterDurable(callback: (written: boolean) => void): void;
  /** Resolves once everything appended before the call is durable (or settled otherwise). */
  flush(): Promise<void>;
  /**
   * Whether the store fenced this conversation off (`cluster_fenced`): its entries are dropped
   * and must not be delivered; cleared by the next {@link open} of the conversation.
   */
  isFenced(conversationId: string): boolean;
  /**
   * `ok`, or `degraded` with the store's reason while a write is failing (the readiness signal),
   * or `closed`.
   */
  status(): EventLogStatus;
  /** Calls `listener` at each change of {@link status}; returns the unsubscribe function. */
  onStatus(listener: (status: EventLogStatus) => void): () => void;
  /** Entries appended but not yet durable. */
  readonly pending: number;
  /** Drops the position counter of a stopped conversation (it must be opened again). */
  forget(conversationId: string): void;
  /** Flushes, then closes the store; later appends throw. */
  close(): Promise<void>;
}

interface Counters {
  lastPosition: number;
  lastSeq: number;
}

interface Waiter {
  /** The callback runs once this many entries (counted since creation) are durable. */
  threshold: number;
  callback: (written: boolean) => void;
}

/**
 * Creates the event log writer.
 *
 * @example
 * const log = createEventLog({ store: SqliteEventStore.open('data/parley.db') });
 * await log.open('demo');
 * log.append('demo', [{ kind: 'frame', conversation_id: 'demo', at: Date.now(), seq: 1, frame }]);
 * log.afterDurable(() => socket.send(JSON.stringify(frame)));
 */
export function createEventLog(options: EventLogOptions): EventLog {
  const { store } = options;
  const maxBatch = positiveInteger('maxBatch', options.maxBatch ?? 1000);
  const maxPending = positiveInteger('maxPending', options.maxPending ?? 200_000);
  const retryDelaysMs = options.retryDelaysMs ?? [10, 50, 200, 1000, 2000, 5000];
  if (retryDelaysMs.length === 0) throw new RangeError('retryDelaysMs must not be empty.');
  const now = options.now ?? Date.now;
  const onError =
    options.onError ??
    ((error: unknown) => {
      console.error('event log:', error);
    });

  const counters = new Map<string, Counters>();
  const opening = new Map<string, Promise<Counters>>();
  /** Entries waiting for a batch; the ones before `queueHead` are already taken. */
  let queue: LogEntry[] = [];
  let queueHead = 0;
  let appended = 0;
  let durable = 0;
  /** Entries counted in `durable` up to this count include some that were not written. */
  let unwrittenUpTo = 0;
  const fenced = new Set<string>();
  const status = createStatusCell();
  /** Wakes the retry wait early (at close). */
  let wakeRetry: (() => void) | undefined;
  /** Callbacks in registration order; the ones before `waitersHead` have run. */
  const waiters: (Waiter | undefined)[] = [];
  let waitersHead = 0;
  let runningCallbacks = false;
  let writing = false;
  let scheduled = false;
  let closed = false;

  const report = (error: unknown) => {
    try {
      onError(error);
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  };

  const runCallbacks = () => {
    // A callback registered from inside a callback joins the queue behind the ones already
    // waiting, and this loop picks it up: nothing is reordered or lost.
    if (runningCallbacks) return;
    runningCallbacks = true;
    try {
      for (;;) {
        const waiter = waiters[waitersHead];
        if (waiter === undefined || waiter.threshold > durable) break;
        waiters[waitersHead] = undefined;
        waitersHead += 1;
        try {
          waiter.callback(waiter.threshold > unwrittenUpTo);
        } catch (error) {
          report(error);
        }
      }
    } finally {
      if (waitersHead === waiters.length) {
        waiters.length = 0;
        waitersHead = 0;
      } else if (waitersHead >= 1024 && waitersHead * 2 >= waiters.length) {
        waiters.splice(0, waitersHead);
        waitersHead = 0;
      }
      runningCallbacks = false;
    }
  };

  /** Entries of fenced conversations leave the batch: they are never written nor delivered. */
  const dropFenced = (batch: LogEntry[], error: ParleyError): LogEntry[] => {
    const ids = error.details?.conversation_ids;
    if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') fenced.add(id);
    report(error);
    return batch.filter((entry) => !fenced.has(entry.conversation_id));
  };

  const waitBeforeRetry = (attempt: number) =>
    new Promise<void>((resolve) => {
      const delay = retryDelaysMs[Math.min(attempt, retryDelaysMs.length - 1)] ?? 0;
      const timer = setTimeout(done, delay);
      function done() {
        clearTimeout(timer);
        wakeRetry = undefined;
        resolve();
      }
      wakeRetry = done;
    });

  /** Writes one batch, retrying until the store takes it; false when it was not written. */
  const writeBatch = async (taken: LogEntry[]): Promise<boolean> => {
    let batch = fenced.size === 0 ? taken : taken.filter((e) => !fenced.has(e.conversation_id));
    const startedAt = performance.now();
    const seconds = () => (performance.now() - startedAt) / 1000;
    for (let attempt = 0; batch.length > 0;) {
      try {
        await store.append(batch);
        options.onBatch?.(batch.length, seconds());
        if (status.current.state === 'degraded') status.set({ state: 'ok' });
        return true;
      } catch (error) {
        options.onBatch?.(batch.length, seconds(), error);
        if (error instanceof ParleyError && error.code === 'cluster_fenced') {
          batch = dropFenced(batch, error);
          continue;
        }
        const reason = error instanceof Error ? error.message : String(error);
        const first = batch[0];
        const failure = new ParleyError(
          'log_unavailable',
          `The event log cannot write ${batch.length} entries (attempt ${attempt + 1}); they are held, and nothing after them is delivered, until the store takes them: ${reason}`,
          {
            cause: error,
            details: {
              entries: batch.length,
              ...(first === undefined
                ? {}
                : { conversation_id: first.conversation_id, position: first.position }),
            },
          },
        );
        if (closed) {
          report(failure);
          return false;
        }
        const current = status.current;
        if (current.state !== 'degraded') {
          report(failure);
          status.set({ state: 'degraded', reason, since: now(), attempts: 1 });
        } else status.set({ ...current, reason, attempts: current.attempts + 1 });
        await waitBeforeRetry(attempt);
        attempt += 1;
      }
    }
    return true;
  };

  const writeAll = async () => {
    // Only one loop at a time: batches reach the store strictly in order, one call in flight.
    if (writing) return;
    writing = true;
    try {
      while (queueHead < queue.length) {
        const batch = queue.slice(queueHead, queueHead + maxBatch);
        queueHead += batch.length;
        // Drop taken entries now and then (amortised O(1)), so that a queue that never quite
        // empties does not keep them all.
        if (queueHead === queue.length) {
          queue = [];
          queueHead = 0;
        } else if (queueHead * 2 >= queue.length) {
          queue = queue.slice(queueHead);
          queueHead = 0;
        }
        const written = await writeBatch(batch);
        committed();
        durable += batch.length;
        if (!written) unwrittenUpTo = durable;
        runCallbacks();
      }
    } finally {
      writing = false;
    }
  };

  /**
   * Group commit: whether a batch was written in this turn of the event loop (a setImmediate
   * clears it). The first batch of a turn is written at the end of its tick; later ones in the
   * same turn wait for the turn's check phase and go in one transaction.
   */
  let committedThisTurn = false;
  let turnEndScheduled = false;
  const committed = () => {
    committedThisTurn = true;
    if (turnEndScheduled) return;
    turnEndScheduled = true;
    setImmediate(() => {
      turnEndScheduled = false;
      committedThisTurn = false;
    });
  };
  const flushScheduled = () => {
    scheduled = false;
    void writeAll();
  };

  const schedule = () => {
    if (scheduled || writing) return;
    scheduled = true;
    // The first batch of a loop turn: process.nextTick, not setImmediate, so a token waits for
    // its own tick's work only, not for the rest of the event loop's phase, before it is
    // committed and sent (measured at 10 tokens/s in 100 conversations: p50 2.0 -> 0.6 ms, p99
    // 16 -> 3.6 ms). Under load, many ticks of one turn (each stream's timer is its own tick)
    // would each pay a commit, with its WAL pages, for one or two rows: those wait for the
    // check phase and share one (docs/PERFORMANCE.md, "Group commit").
    if (committedThisTurn) setImmediate(flushScheduled);
    else process.nextTick(flushScheduled);
  };

  const afterDurable = (callback: (written: boolean) => void) => {
    if (durable === appended && waitersHead === waiters.length && !runningCallbacks) {
      callback(true);
      return;
    }
    // While callbacks run, a new one waits its turn even if its entries are durable: the running
    // loop reaches it after the ones registered before it.
    waiters.push({ threshold: appended, callback });
  };

  const whenDurable = () =>
    new Promise<void>((resolve) => {
      afterDurable(() => {
        resolve();
      });
    });

  const load = async (conversationId: string): Promise<Counters> => {
    // Entries of an earlier, forgotten run of this conversation may still be on their way.
    if (durable < appended) await whenDurable();
    const last = await store.lastPosition(conversationId);
    const loaded = { lastPosition: last?.position ?? 0, lastSeq: last?.seq ?? 0 };
    counters.set(conversationId, loaded);
    return loaded;
  };

  return {
    store,

    async open(conversationId) {
      if (closed) throw closedError();
      fenced.delete(conversationId);
      let current = counters.get(conversationId);
      if (current === undefined) {
        // Concurrent opens of one conversation share a single read of the store.
        let loading = opening.get(conversationId);
        if (loading === undefined) {
          loading = load(conversationId).finally(() => opening.delete(conversationId));
          opening.set(conversationId, loading);
        }
        current = await loading;
      }
      return { lastPosition: current.lastPosition, lastSeq: current.lastSeq };
    },

    append(conversationId, entries) {
      if (closed) throw closedError();
      const current = counters.get(conversationId);
      if (current === undefined) {
        throw new ParleyError(
          'internal_error',
          `The event log has not opened conversation ${conversationId}; await log.open() first.`,
        );
      }
      const pending = appended - durable;
      if (pending + entries.length > maxPending) {
        throw new ParleyError(
          'log_unavailable',
          `The event log has ${pending} entries waiting to be written (limit ${maxPending}); the store is too slow or unavailable.`,
          { details: { pending, max_pending: maxPending } },
        );
      }
      for (const entry of entries) {
        if (entry.conversation_id !== conversationId) {
          throw new ParleyError(
            'internal_error',
            `An entry of conversation ${entry.conversation_id} was appended to ${conversationId}.`,
          );
        }
      }
      const positioned = entries.map((entry): LogEntry => {
        current.lastPosition += 1;
        if (entry.kind === 'frame' && entry.seq > current.lastSeq) current.lastSeq = entry.seq;
        // Object.assign, not `{ ...entry, v, position }`: on Node 20 a spread followed by new
        // keys gives every object its own hidden class (two per token here).
        return Object.assign({}, entry, {
          v: LOG_ENTRY_VERSION,
          position: current.lastPosition,
        }) as LogEntry;
      });
      for (const entry of positioned) queue.push(entry);
      appended += positioned.length;
      if (positioned.length > 0) schedule();
      return positioned;
    },

    afterDurable,

    flush: whenDurable,

    isFenced(conversationId) {
      return fenced.size !== 0 && fenced.has(conversationId);
    },

    status() {
      return status.current;
    },

    onStatus(listener) {
      return status.subscribe(listener);
    },

    get pending() {
      return appended - durable;
    },

    forget(conversationId) {
      counters.delete(conversationId);
    },

    async close() {
      if (closed) return;
      closed = true;
      // A batch waiting for its retry tries once more now, and is given up if that fails.
      wakeRetry?.();
      await whenDurable();
      status.set({ state: 'closed' });
      await store.close();
    },
  };
}

function closedError(): ParleyError {
  return new ParleyError('log_unavailable', 'The event log is closed.');
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}.`);
  }
  return value;
}
