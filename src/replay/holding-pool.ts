import type { PoolJob, WorkerPool } from '../../streams/worker-pool.js';

/** A worker pool that holds some turns back until told to start them. */
export interface HoldingPool extends WorkerPool {
  /** Submits a held turn to the pool now. */
  start(turnId: string): void;
}

/**
 * Wraps a worker pool for a replay: the turns that waited for a worker in the recording (it logged
 * when each got one) are held at `submit` until the replay reaches that point and calls
 * {@link HoldingPool.start}; every other turn starts as soon as the pool has a worker, as it did.
 *
 * @example
 * const pool = holdingPool(createWorkerPool({ concurrency: 10, maxWaiting: 100 }), ['turn_x_2']);
 */
export function holdingPool(pool: WorkerPool, heldTurnIds: Iterable<string>): HoldingPool {
  const toHold = new Set(heldTurnIds);
  const held = new Map<string, PoolJob>();
  return {
    reserve: (options) => pool.reserve(options),
    release: () => {
      pool.release();
    },
    submit(job) {
      if (toHold.delete(job.id)) held.set(job.id, job);
      else pool.submit(job);
    },
    start(turnId) {
      const job = held.get(turnId);
      if (job === undefined) return;
      held.delete(turnId);
      pool.submit(job);
    },
    cancel(jobId) {
      const job = held.get(jobId);
      if (job === undefined) return pool.cancel(jobId);
      held.delete(jobId);
      pool.release();
      job.onEnd?.('cancelled');
      return true;
    },
    get running() {
      return pool.running;
    },
    get waiting() {
      return pool.waiting;
    },
    get maxWaiting() {
      return pool.maxWaiting;
    },
    whenIdle: () => pool.whenIdle(),
    close() {
      held.clear();
      pool.close();
    },
  };
}
