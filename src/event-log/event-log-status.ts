/**
 * The event log's health as a value and a stream of changes: what `/health` reports and what a
 * readiness probe (`/health/ready`) and the engine (which stops taking input) listen to.
 */

/** Whether the event log is writing. */
export type EventLogStatus =
  | { state: 'ok' }
  | {
      /** A store write is failing: appended entries are held, nothing after them is delivered. */
      state: 'degraded';
      /** The store's last error message. */
      reason: string;
      /** When the first write of this run of failures failed, epoch ms. */
      since: number;
      /** Failed attempts so far. */
      attempts: number;
    }
  | { state: 'closed' };

/** A status value with listeners, told at each change of `state` (and of a degraded reason). */
export interface StatusCell {
  readonly current: EventLogStatus;
  set(status: EventLogStatus): void;
  subscribe(listener: (status: EventLogStatus) => void): () => void;
}

/**
 * Creates the cell, starting `ok`.
 *
 * @example
 * const cell = createStatusCell();
 * const stop = cell.subscribe((status) => console.log(status.state));
 */
export function createStatusCell(): StatusCell {
  let current: EventLogStatus = { state: 'ok' };
  const listeners = new Set<(status: EventLogStatus) => void>();
  return {
    get current() {
      return current;
    },
    set(status) {
      const changed =
        status.state !== current.state ||
        (status.state === 'degraded' &&
          current.state === 'degraded' &&
          status.reason !== current.reason);
      current = status;
      if (!changed) return;
      for (const listener of [...listeners]) {
        try {
          listener(status);
        } catch {
          // A listener's failure must not stop the writer or the other listeners.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
