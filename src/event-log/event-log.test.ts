import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParleyError } from '../errors.js';
import { createEventLog } from './event-log.js';
import type { EventStore } from './event-store.js';
import { LOG_ENTRY_VERSION, type LogEntry, type NewLogEntry } from './log-entry.js';
import { MemoryEventStore } from './memory-store.js';

/** A memory store that records every append and can hold or fail them on demand. */
class SpyStore extends MemoryEventStore implements EventStore {
  readonly appendCalls: LogEntry[][] = [];
  lastPositionCalls = 0;
  /** Appends that reject before the store accepts again. */
  failures = 0;
  /** While set, each append waits for `release()`. */
  holding = false;
  #held: (() => void)[] = [];

  override async append(entries: readonly LogEntry[]): Promise<void> {
    this.appendCalls.push([...entries]);
    if (this.holding) await new Promise<void>((resolve) => this.#held.push(resolve));
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('disk full');
    }
    await super.append(entries);
  }

  override lastPosition(conversationId: string) {
    this.lastPositionCalls += 1;
    return super.lastPosition(conversationId);
  }

  /** Lets the held appends go on. */
  release(): void {
    this.holding = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }
}

const message = (conversationId: string, seq: number): NewLogEntry => ({
  kind: 'frame',
  conversation_id: conversationId,
  at: 1_000,
  seq,
  frame: { type: 'user_message', content: `message ${seq}` },
});

/** Lets the flush (process.nextTick) and the store's promise callbacks run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createEventLog', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('continues positions and seq after open on a store that already has entries', async () => {
    const store = new SpyStore();
    await store.append([
      { v: 1, position: 1, ...message('demo', 1) },
      { v: 1, position: 2, ...message('demo', 2) },
    ] as LogEntry[]);
    const log = createEventLog({ store });

    expect(await log.open('demo')).toEqual({ lastPosition: 2, lastSeq: 2 });
    // Entries of version 1 before, the version this log writes after: each entry says its own.
    const appended = log.append('demo', [message('demo', 3)]);
    expect(appended).toEqual([{ v: LOG_ENTRY_VERSION, position: 3, ...message('demo', 3) }]);
    expect(LOG_ENTRY_VERSION).toBe(2);
    await log.flush();

    expect((await store.readEntries('demo')).map((entry) => entry.position)).toEqual([1, 2, 3]);
    expect(await log.open('demo')).toEqual({ lastPosition: 3, lastSeq: 3 });
    expect(store.lastPositionCalls).toBe(1);
  });

  it('opens a conversation once when asked twice at the same time', async () => {
    const store = new SpyStore();
    const log = createEventLog({ store });

    const [first, second] = await Promise.all([log.open('demo'), log.open('demo')]);
    expect(first).toEqual({ lastPosition: 0, lastSeq: 0 });
    expect(second).toEqual(first);
    expect(store.lastPositionCalls).toBe(1);
  });

  it('batches appends made in the promise jobs of one tick, and flushes before the next phase', async () => {
    const store = new SpyStore();
    const log = createEventLog({ store });
    await log.open('a');

    // A model stream resolves its tokens as promise jobs: they all belong to one batch.
    log.append('a', [message('a', 1)]);
    await Promise.resolve();
    log.append('a', [message('a', 2)]);
    await Promise.resolve();
    log.append('a', [message('a', 3)]);
    // The batch is written before the event loop moves on to its next phase (no setImmediate
    // wait): a tick callback queued after the appends finds it in the store.
    await new Promise<void>((resolve) => {
      process.nextTick(resolve);
    });
    expect(store.appendCalls.map((batch) => batch.map((entry) => entry.position))).toEqual([
      [1, 2, 3],
    ]);
  });

  it('writes every entry appended in one tick in one store.append call', async () => {
    const store = new SpyStore();
    const log = createEventLog({ store });
    await log.open('a');
    await log.open('b');

    log.append('a', [message('a', 1), message('a', 2)]);
    log.append('b', [message('b', 1)]);
    log.append('a', [message('a', 3)]);
    expect(store.appendCalls).toHaveLength(0);
    expect(log.pending).toBe(4);
    await log.flush();

    expect(store.appendCalls.map((batch) => batch.map((entry) => entry.position))).toEqual([
      [1, 2, 1, 3],
    ]);
    expect(log.pending).toBe(0);

    log.append('b', [message('b', 2)]);
    await log.flush();
    expect(store.appendCalls).toHaveLength(2);
  });

  it('splits a tick larger than maxBatch into batches, in order', async () => {
    const store = new SpyStore();
    const log = createEventLog({ store, maxBatch: 2 });
    await log.open('a');

    log.append(
      'a',
      [1, 2, 3, 4, 5].map((seq) => message('a', seq)),
    );
    await log.flush();

    expect(store.appendCalls.map((batch) => batch.map((entry) => entry.position))).toEqual([
      [1, 2],
      [3, 4],
      [5],
    ]);
  });

  it('never has two store.append calls in flight', async () => {
    const store = new SpyStore();
    const log = createEventLog({ store });
    await log.open('a');

    store.holding = true;
    log.append('a', [message('a', 1)]);
    await nextTurn();
    log.append('a', [message('a', 2)]);
    await nextTurn();
    log.append('a', [message('a', 3)]);
    await nextTurn();
    expect(store.appendCalls).toHaveLength(1);

    store.release();
    await log.flush();
    expect(store.appendCalls.map((batch) => batch.map((entry) => entry.position))).toEqual([
      [1],
      [2, 3],
    ]);
  });

  it('runs afterDurable callbacks only once their entries are stored', async () => {
    const store = new SpyStore();
    const log = createEventLog({ store });
    await log.open('a');
    const stored: number[] = [];

    store.holding = true;
    log.append('a', [message('a', 1)]);
    log.afterDurable(() => {
      void store.readEntries('a').then((entries) => stored.push(entries.length));
    });
    await nextTurn();
    expect(stored).toEqual([]);

    store.release();
    await log.flush();
    await nextTurn();
    expect(stored).toEqual([1]);
  });

  it('runs afterDurable at once when nothing is pending', () => {
    const log = createEventLog({ store: new SpyStore() });
    let ran = false;

    log.afterDurable(() => {
      ran = true;
    });
    expect(ran).toBe(true);
  });

  it('runs afterDurable callbacks in the order given, including those registered inside one', async () => {
    const log = createEventLog({ store: new SpyStore() });
    await log.open('a');
    const order: string[] = [];

    log.append('a', [message('a', 1)]);
    log.afterDurable(() => {
      order.push('first');
      // Nothing is pending now, but `second` was registered earlier and runs before this one.
      log.afterDurable(() => order.push('nested in first'));
      log.append('a', [message('a', 2)]);
      log.afterDurable(() => order.push('after entry 2'));
    });
    log.afterDurable(() => order.push('second'));
    await log.flush();
    await log.flush();

    expect(order).toEqual(['first', 'second', 'nested in first', 'after entry 2']);
  });

  it('reports a callback that throws and still runs the next ones', async () => {
    const onError = vi.fn();
    const log = createEventLog({ store: new SpyStore(), onError });
    await log.open('a');
    const order: string[] = [];

    log.append('a', [message('a', 1)]);
    log.afterDurable(() => {
      throw new Error('socket gone');
    });
    log.afterDurable(() => order.push('next'));
    await log.flush();

    expect(order).toEqual(['next']);
    expect(onError).toHaveBeenCalledWith(new Error('socket gone'));
  });

  it('retries a failed batch after 10 and 50 ms, then goes on once it is stored', async () => {
    vi.useFakeTimers();
    const store = new SpyStore();
    const onError = vi.fn();
    const log = createEventLog({ store, onError });
    await log.open('a');
    store.failures = 2;
    let durable = false;

    log.append('a', [message('a', 1)]);
    log.afterDurable(() => (durable = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(store.appendCalls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(9);
    expect(store.appendCalls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.appendCalls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(49);
    expect(store.appendCalls).toHaveLength(2);
    expect(durable).toBe(false);
    await vi.advanceTimersByTimeAsync(1);

    expect(store.appendCalls).toHaveLength(3);
    expect(durable).toBe(true);
    // Told once, at the first failure of the run; the store is writing again.
    expect(onError).toHaveBeenCalledTimes(1);
    expect(log.status()).toEqual({ state: 'ok' });
    expect((await store.readEntries('a')).map((entry) => entry.position)).toEqual([1]);
  });

  it('holds a batch the store keeps refusing, reports degraded, then writes and delivers it in order', async () => {
    vi.useFakeTimers();
    const store = new SpyStore();
    const onError = vi.fn();
    const log = createEventLog({ store, onError, now: () => 5_000 });
    await log.open('a');
    const statuses: string[] = [];
    log.onStatus((status) => statuses.push(status.state));
    store.failures = 8;
    const delivered: string[] = [];

    log.append('a', [message('a', 1), message('a', 2)]);
    log.afterDurable((written) => delivered.push(`first ${String(written)}`));
    await vi.advanceTimersByTimeAsync(10 + 50 + 200 + 1000 + 2000);
    log.append('a', [message('a', 3)]);
    log.afterDurable((written) => delivered.push(`second ${String(written)}`));
    await vi.advanceTimersByTimeAsync(5000 * 2);

    expect(delivered).toEqual([]);
    expect(log.pending).toBe(3);
    expect(log.status()).toEqual({
      state: 'degraded',
      reason: 'disk full',
      since: 5_000,
      attempts: 8,
    });
    expect(onError).toHaveBeenCalledTimes(1);
    const [error] = onError.mock.calls[0] as [ParleyError];
    expect(error.code).toBe('log_unavailable');
    expect(error.message).toBe(
      'The event log cannot write 2 entries (attempt 1); they are held, and nothing after them is delivered, until the store takes them: disk full',
    );

    await vi.advanceTimersByTimeAsync(5000);

    expect(delivered).toEqual(['first true', 'second true']);
    expect(log.status()).toEqual({ state: 'ok' });
    expect(statuses).toEqual(['degraded', 'ok']);
    expect((await store.readEntries('a')).map((entry) => entry.position)).toEqual([1, 2, 3]);
  });

  it('gives held batches up only when closed, and tells their callbacks they were not written', async () => {
    vi.useFakeTimers();
    const store = new SpyStore();
    const log = createEventLog({ store, onError: () => undefined });
    await log.open('a');
    store.failures = 100;
    const delivered: boolean[] = [];
    log.append('a', [message('a', 1)]);
    log.afterDurable((written) => delivered.push(written));
    await vi.advanceTimersByTimeAsync(100);

    const closing = log.close();
    await vi.advanceTimersByTimeAsync(0);
    await closing;

    expect(delivered).toEqual([false]);
    expect(log.status()).toEqual({ state: 'closed' });
  });

  it('drops the entries of a fenced conversation and writes the rest of the batch', async () => {
    const store = new SpyStore();
    const onError = vi.fn();
    const log = createEventLog({ store, onError });
    await log.open('a');
    await log.open('b');
    const append = store.append.bind(store);
    let fence = true;
    store.append = async (entries) => {
      if (fence && entries.some((entry) => entry.conversation_id === 'a')) {
        fence = false;
        throw new ParleyError('cluster_fenced', 'a is owned by another instance', {
          details: { conversation_ids: ['a'] },
        });
      }
      await append(entries);
    };
    log.append('a', [message('a', 1)]);
    log.append('b', [message('b', 1)]);
    const written = await new Promise<boolean>((resolve) => {
      log.afterDurable(resolve);
    });

    expect(written).toBe(true);
    expect(log.isFenced('a')).toBe(true);
    expect(log.isFenced('b')).toBe(false);
    expect(await store.readEntries('a')).toEqual([]);
    expect((await store.readEntries('b')).map((entry) => entry.position)).toEqual([1]);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: 'cluster_fenced' }));
    await log.open('a');
    expect(log.isFenced('a')).toBe(false);
  });

  it('throws log_unavailable and queues nothing when maxPending would be exceeded', async () => {
    const store = new SpyStore();
    const log = createEventLog({ store, maxPending: 5 });
    await log.open('a');
    store.holding = true;

    log.append(
      'a',
      [1, 2, 3].map((seq) => message('a', seq)),
    );
    expect(() =>
      log.append(
        'a',
        [4, 5, 6].map((seq) => message('a', seq)),
      ),
    ).toThrow(
      new ParleyError(
        'log_unavailable',
        'The event log has 3 entries waiting to be written (limit 5); the store is too slow or unavailable.',
        { details: { pending: 3, max_pending: 5 } },
      ),
    );
    expect(log.pending).toBe(3);
    expect(
      log.append('a', [message('a', 4), message('a', 5)]).map((entry) => entry.position),
    ).toEqual([4, 5]);

    store.release();
    await log.flush();
    expect(log.pending).toBe(0);
  });

  it('throws when appending to a conversation that was not opened, or was forgotten', async () => {
    const log = createEventLog({ store: new SpyStore() });

    expect(() => log.append('a', [message('a', 1)])).toThrow(
      'The event log has not opened conversation a; await log.open() first.',
    );
    await log.open('a');
    log.forget('a');
    expect(() => log.append('a', [message('a', 1)])).toThrow(ParleyError);
  });

  it('refuses an entry of another conversation', async () => {
    const log = createEventLog({ store: new SpyStore() });
    await log.open('a');

    expect(() => log.append('a', [message('b', 1)])).toThrow(
      'An entry of conversation b was appended to a.',
    );
    expect(log.pending).toBe(0);
  });

  it('reopens a forgotten conversation after its last entries are stored', async () => {
    const store = new SpyStore();
    const log = createEventLog({ store });
    await log.open('a');
    store.holding = true;
    log.append('a', [message('a', 1), message('a', 2)]);
    log.forget('a');

    const reopened = log.open('a');
    await nextTurn();
    store.release();

    expect(await reopened).toEqual({ lastPosition: 2, lastSeq: 2 });
    expect(log.append('a', [message('a', 3)])[0]?.position).toBe(3);
  });

  it('flushes, then closes the store, on close', async () => {
    const store = new SpyStore();
    const close = vi.spyOn(store, 'close');
    const log = createEventLog({ store });
    await log.open('a');

    log.append('a', [message('a', 1)]);
    await log.close();

    expect(store.appendCalls).toHaveLength(1);
    expect(close).toHaveBeenCalledTimes(1);
    expect(() => log.append('a', [message('a', 2)])).toThrow('The event log is closed.');
  });
});
