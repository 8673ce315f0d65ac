import { VirtualAction, VirtualTimeScheduler, type Subscription } from 'rxjs';
import type { Clock } from '../engine.js';

/**
 * One virtual clock for a whole engine: the RxJS scheduler (pacing, tool timeouts, turn
 * deadlines), XState's clock (heartbeats, idle stops) and `now()` all read and advance the same
 * time, so a replay runs minutes of session in milliseconds and in the same order every time.
 *
 * @example
 * const clock = new VirtualClock(recording.startedAt);
 * createEngine({ config, scheduler: clock.scheduler, clock: clock.xstate, now: clock.now });
 * while (clock.advanceToNext()) await settle();
 */
export class VirtualClock {
  readonly scheduler = new VirtualTimeScheduler(VirtualAction, 0);
  readonly xstate: Clock = {
    setTimeout: (callback: () => void, ms: number) =>
      this.scheduler.schedule(() => {
        callback();
      }, ms),
    clearTimeout: (subscription: Subscription) => {
      subscription.unsubscribe();
    },
  };

  constructor(private readonly epoch: number) {}

  /** Epoch milliseconds: the start time plus the virtual time elapsed. */
  readonly now = (): number => this.epoch + this.scheduler.frame;

  /** Virtual milliseconds since the start. */
  get elapsed(): number {
    return this.scheduler.frame;
  }

  /** Whether anything is scheduled. */
  get hasPending(): boolean {
    return this.scheduler.actions.length > 0;
  }

  /**
   * Moves time to the next scheduled moment and runs everything due then (including what that
   * schedules for the same moment). Returns false when nothing is scheduled.
   */
  advanceToNext(): boolean {
    const next = this.scheduler.actions[0];
    if (next === undefined) return false;
    this.scheduler.maxFrames = next.delay;
    this.scheduler.flush();
    return true;
  }

  /** A promise resolved after `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.scheduler.schedule(() => {
        resolve();
      }, ms);
    });
  }
}
