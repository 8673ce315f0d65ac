/**
 * Pending waits for a frame: `waitFor`, and the answers to `history` requests.
 */
import type { ServerFrame } from '../protocol/frames.js';
import { ParleyClientError } from './client-error.js';

interface Waiter<TTag> {
  predicate: (frame: ServerFrame) => boolean;
  resolve: (frame: ServerFrame) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  tag: TTag | undefined;
}

/**
 * A set of promises waiting for the first frame that matches their predicate, each with a
 * timeout. A wait may carry a `tag` (the socket a request went out on) so that every wait on a
 * connection that has gone can be rejected at once.
 *
 * @example
 * const waiters = new FrameWaiters<WebSocketLike>();
 * const pong = waiters.wait((frame) => frame.type === 'pong', 1_000, 'a pong');
 * waiters.offer(frame); // from the receive path
 */
export class FrameWaiters<TTag> {
  private readonly waiters = new Set<Waiter<TTag>>();

  /** Resolves with the next offered frame matching `predicate`; rejects with `timeout` after `timeoutMs`. */
  wait(
    predicate: (frame: ServerFrame) => boolean,
    timeoutMs: number,
    description: string,
    tag?: TTag,
  ): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<TTag> = { predicate, resolve, reject, timer: undefined, tag };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => {
          const message = `Timed out after ${timeoutMs} ms waiting for ${description}.`;
          this.settle(waiter, new ParleyClientError('timeout', message));
        }, timeoutMs);
      }
      this.waiters.add(waiter);
    });
  }

  /** Settles every wait whose predicate matches `frame` (or throws, rejecting that wait). */
  offer(frame: ServerFrame): void {
    for (const waiter of [...this.waiters]) {
      let matches: boolean;
      try {
        matches = waiter.predicate(frame);
      } catch (cause) {
        this.settle(waiter, cause instanceof Error ? cause : new Error(String(cause)));
        continue;
      }
      if (matches) this.settle(waiter, frame);
    }
  }

  /** Rejects the waits carrying `tag` (every wait when `tag` is undefined). */
  rejectAll(error: Error, tag?: TTag): void {
    for (const waiter of [...this.waiters]) {
      if (tag === undefined || waiter.tag === tag) this.settle(waiter, error);
    }
  }

  private settle(waiter: Waiter<TTag>, outcome: ServerFrame | Error): void {
    if (!this.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }
}
