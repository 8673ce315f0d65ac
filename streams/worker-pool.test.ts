import { throwError, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { createWorkerPool, type PoolJob, type WorkerPool } from './worker-pool.js';

function createTestScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
}

interface StartRecord {
  event: 'start';
  id: string;
  at: number;
  running: number;
}

interface EndRecord {
  event: 'end';
  id: string;
  at: number;
  running: number;
  outcome: 'completed' | 'cancelled' | 'failed';
  error?: unknown;
}

type JobRecord = StartRecord | EndRecord;

const isEnd = (record: JobRecord): record is EndRecord => record.event === 'end';

/** Reserves a place and submits a job whose start and end are recorded with their frame. */
function submitRecorded(
  pool: WorkerPool,
  testScheduler: TestScheduler,
  records: JobRecord[],
  id: string,
  run: () => Observable<unknown>,
): void {
  expect(pool.reserve()).toBe(true);
  const job: PoolJob = {
    id,
    run,
    onStart: () => {
      records.push({ event: 'start', id, at: testScheduler.now(), running: pool.running });
    },
    onEnd: (outcome, error) => {
      records.push({
        event: 'end',
        id,
        at: testScheduler.now(),
        running: pool.running,
        outcome,
        ...(error === undefined ? {} : { error }),
      });
    },
  };
  pool.submit(job);
}

function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}

describe('createWorkerPool', () => {
  it('runs at most `concurrency` jobs at once and starts waiting jobs as slots free up', () => {
    const testScheduler = createTestScheduler();
    const records: JobRecord[] = [];
    const pool = createWorkerPool({ concurrency: 10, maxWaiting: 100 });
    testScheduler.run(({ cold }) => {
      for (let index = 0; index < 20; index += 1) {
        submitRecorded(pool, testScheduler, records, `job_${index}`, () => cold('----------|'));
      }
      expect(pool.running).toBe(10);
      expect(pool.waiting).toBe(10);
    });

    const starts = records.filter((record) => record.event === 'start');
    const ends = records.filter(isEnd);
    expect(Math.max(...records.map((record) => record.running))).toBe(10);
    expect(starts.slice(0, 10).map((record) => record.at)).toEqual(Array(10).fill(0));
    expect(starts.slice(10).map((record) => record.at)).toEqual(Array(10).fill(10));
    expect(ends.slice(0, 10).map((record) => record.at)).toEqual(Array(10).fill(10));
    expect(ends.slice(10).map((record) => record.at)).toEqual(Array(10).fill(20));
    expect(new Set(ends.map((record) => record.outcome))).toEqual(new Set(['completed']));
    expect(pool.running).toBe(0);
    expect(pool.waiting).toBe(0);
  });

  it('refuses a reservation once maxWaiting jobs wait, and accepts again when one starts', () => {
    const testScheduler = createTestScheduler();
    const records: JobRecord[] = [];
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 2 });
    const reservations: { at: number; accepted: boolean }[] = [];
    testScheduler.run(({ cold }) => {
      submitRecorded(pool, testScheduler, records, 'running', () => cold('-----|'));
      submitRecorded(pool, testScheduler, records, 'waiting_1', () => cold('-----|'));
      submitRecorded(pool, testScheduler, records, 'waiting_2', () => cold('-----|'));
      reservations.push({ at: testScheduler.now(), accepted: pool.reserve() });
      testScheduler.schedule(() => {
        reservations.push({ at: testScheduler.now(), accepted: pool.reserve() });
        pool.release();
      }, 5);
    });

    expect(reservations).toEqual([
      { at: 0, accepted: false },
      { at: 5, accepted: true },
    ]);
    expect(pool.waiting).toBe(0);
  });

  it('gives a reserved place back on release', () => {
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 1 });

    expect(pool.reserve()).toBe(true);
    expect(pool.reserve()).toBe(false);
    pool.release();

    expect(pool.waiting).toBe(0);
    expect(pool.reserve()).toBe(true);
  });

  it('claims a place beyond maxWaiting when forced, and refuses others until it drains', () => {
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 1 });
    expect(pool.reserve()).toBe(true);

    expect(pool.reserve({ force: true })).toBe(true);
    expect(pool.waiting).toBe(2);
    expect(pool.reserve()).toBe(false);
    pool.release();
    expect(pool.reserve()).toBe(false);
    pool.release();
    expect(pool.reserve()).toBe(true);
  });

  it('ends a job whose run errors as failed with the error, and keeps running later jobs', () => {
    const testScheduler = createTestScheduler();
    const records: JobRecord[] = [];
    const failure = new Error('The model stream broke.');
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 10 });
    testScheduler.run(({ cold }) => {
      submitRecorded(pool, testScheduler, records, 'failing', () =>
        cold('--#', undefined, failure),
      );
      submitRecorded(pool, testScheduler, records, 'later', () => cold('--|'));
    });

    expect(records).toEqual([
      { event: 'start', id: 'failing', at: 0, running: 1 },
      { event: 'end', id: 'failing', at: 2, running: 0, outcome: 'failed', error: failure },
      { event: 'start', id: 'later', at: 2, running: 1 },
      { event: 'end', id: 'later', at: 4, running: 0, outcome: 'completed' },
    ]);
  });

  // Regression: `run()` was called outside the job's catchError, so a job that threw instead of
  // returning an Observable errored the pool's only subscription and the pool stopped for good.
  it('survives a job whose run throws instead of returning an Observable', () => {
    const testScheduler = createTestScheduler();
    const records: JobRecord[] = [];
    const failure = new Error('Cannot read properties of undefined.');
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 10 });
    testScheduler.run(({ cold }) => {
      submitRecorded(pool, testScheduler, records, 'throwing', () => {
        throw failure;
      });
      submitRecorded(pool, testScheduler, records, 'later', () => cold('--|'));
    });

    expect(records).toEqual([
      { event: 'start', id: 'throwing', at: 0, running: 1 },
      { event: 'end', id: 'throwing', at: 0, running: 0, outcome: 'failed', error: failure },
      { event: 'start', id: 'later', at: 0, running: 1 },
      { event: 'end', id: 'later', at: 2, running: 0, outcome: 'completed' },
    ]);
  });

  it('tears a running job down on cancel and ends it cancelled', () => {
    const testScheduler = createTestScheduler();
    const records: JobRecord[] = [];
    const pool = createWorkerPool({ concurrency: 2, maxWaiting: 10 });
    let cancelled: boolean | undefined;
    testScheduler.run(({ cold, expectSubscriptions }) => {
      const work = cold('----------|');
      submitRecorded(pool, testScheduler, records, 'turn_1', () => work);
      testScheduler.schedule(() => {
        cancelled = pool.cancel('turn_1');
      }, 3);
      expectSubscriptions(work.subscriptions).toBe('^--!');
    });

    expect(cancelled).toBe(true);
    expect(records).toEqual([
      { event: 'start', id: 'turn_1', at: 0, running: 1 },
      { event: 'end', id: 'turn_1', at: 3, running: 0, outcome: 'cancelled' },
    ]);
  });

  it('never runs a waiting job that was cancelled, and ends it cancelled', () => {
    const testScheduler = createTestScheduler();
    const records: JobRecord[] = [];
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 10 });
    let cancelled: boolean | undefined;
    testScheduler.run(({ cold, expectSubscriptions }) => {
      const waitingWork = cold('--|');
      submitRecorded(pool, testScheduler, records, 'running', () => cold('-----|'));
      submitRecorded(pool, testScheduler, records, 'waiting', () => waitingWork);
      cancelled = pool.cancel('waiting');
      expectSubscriptions(waitingWork.subscriptions).toBe([]);
    });

    expect(cancelled).toBe(true);
    // It keeps its place until it reaches the front of the queue (frame 5), then leaves unrun.
    expect(records.filter((record) => record.id === 'waiting')).toEqual([
      { event: 'end', id: 'waiting', at: 5, running: 0, outcome: 'cancelled' },
    ]);
    expect(pool.running).toBe(0);
    expect(pool.waiting).toBe(0);
  });

  it('returns false from cancel for an unknown or already finished job', () => {
    const testScheduler = createTestScheduler();
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 10 });
    testScheduler.run(({ cold }) => {
      submitRecorded(pool, testScheduler, [], 'turn_1', () => cold('-|'));
    });

    expect(pool.cancel('turn_1')).toBe(false);
    expect(pool.cancel('turn_unknown')).toBe(false);
  });

  it('resolves whenIdle only once nothing runs and nothing waits', async () => {
    const testScheduler = createTestScheduler();
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 10 });
    for (const id of ['turn_1', 'turn_2']) {
      pool.reserve();
      pool.submit({ id, run: () => timer(10, testScheduler) });
    }
    let idle = false;
    const whenIdle = pool.whenIdle().then(() => {
      idle = true;
    });

    testScheduler.maxFrames = 15;
    testScheduler.flush();
    await drainMicrotasks();
    expect(idle).toBe(false);

    testScheduler.maxFrames = 20;
    testScheduler.flush();
    await whenIdle;
    expect(idle).toBe(true);
    expect(testScheduler.now()).toBe(20);
  });

  it('resolves whenIdle at once when the pool has nothing to do', async () => {
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 10 });

    await expect(pool.whenIdle()).resolves.toBeUndefined();
  });

  it('resolves whenIdle when the last reservation is released', async () => {
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 10 });
    pool.reserve();
    const whenIdle = pool.whenIdle();

    pool.release();

    await expect(whenIdle).resolves.toBeUndefined();
  });

  it('stops running jobs on close and ends them cancelled', () => {
    const testScheduler = createTestScheduler();
    const records: JobRecord[] = [];
    const pool = createWorkerPool({ concurrency: 2, maxWaiting: 10 });
    testScheduler.run(({ cold, expectSubscriptions }) => {
      const first = cold('----------|');
      const second = cold('----------|');
      submitRecorded(pool, testScheduler, records, 'turn_1', () => first);
      submitRecorded(pool, testScheduler, records, 'turn_2', () => second);
      testScheduler.schedule(() => {
        pool.close();
      }, 4);
      expectSubscriptions(first.subscriptions).toBe('^---!');
      expectSubscriptions(second.subscriptions).toBe('^---!');
    });

    expect(records.filter(isEnd)).toEqual([
      { event: 'end', id: 'turn_1', at: 4, running: 1, outcome: 'cancelled' },
      { event: 'end', id: 'turn_2', at: 4, running: 0, outcome: 'cancelled' },
    ]);
  });

  // Regression: close() cancelled jobs one by one, so each running job that ended handed its slot
  // to a waiting job not yet marked cancelled, which then started (onStart, run) during shutdown.
  it('ends waiting jobs cancelled on close without starting them', async () => {
    const testScheduler = createTestScheduler();
    const records: JobRecord[] = [];
    const pool = createWorkerPool({ concurrency: 1, maxWaiting: 10 });
    testScheduler.run(({ cold, expectSubscriptions }) => {
      const waitingWork = cold('--|');
      submitRecorded(pool, testScheduler, records, 'running', () => cold('----------|'));
      submitRecorded(pool, testScheduler, records, 'waiting_1', () => waitingWork);
      submitRecorded(pool, testScheduler, records, 'waiting_2', () => waitingWork);
      testScheduler.schedule(() => {
        pool.close();
      }, 4);
      expectSubscriptions(waitingWork.subscriptions).toBe([]);
    });

    expect(records).toEqual([
      { event: 'start', id: 'running', at: 0, running: 1 },
      { event: 'end', id: 'running', at: 4, running: 0, outcome: 'cancelled' },
      { event: 'end', id: 'waiting_1', at: 4, running: 0, outcome: 'cancelled' },
      { event: 'end', id: 'waiting_2', at: 4, running: 0, outcome: 'cancelled' },
    ]);
    expect(pool.waiting).toBe(0);
    await expect(pool.whenIdle()).resolves.toBeUndefined();
  });

  it('keeps the pool running after a job fails with an error thrown inside its stream', () => {
    const testScheduler = createTestScheduler();
    const records: JobRecord[] = [];
    const failure = new Error('boom');
    const pool = createWorkerPool({ concurrency: 2, maxWaiting: 10 });
    testScheduler.run(({ cold }) => {
      submitRecorded(pool, testScheduler, records, 'failing', () => throwError(() => failure));
      submitRecorded(pool, testScheduler, records, 'working', () => cold('---|'));
    });

    expect(records.filter(isEnd)).toEqual([
      { event: 'end', id: 'failing', at: 0, running: 0, outcome: 'failed', error: failure },
      { event: 'end', id: 'working', at: 3, running: 0, outcome: 'completed' },
    ]);
  });
});
