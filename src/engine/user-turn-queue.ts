/**
 * Turns waiting for a worker, counted per user: the worker pool's queue is shared by everybody,
 * and without this a few users' messages could fill it (`PARLEY_USER_TURN_QUEUE`).
 */
export class UserTurnQueue {
  readonly #waiting = new Map<string, number>();

  /** `limit`: turns one user may have waiting; 0 turns the limit off. */
  constructor(readonly limit: number) {}

  /** Whether this user may have one more turn waiting (always, for no user or no limit). */
  hasRoom(userId: string | undefined): boolean {
    return userId === undefined || this.limit === 0 || this.waitingOf(userId) < this.limit;
  }

  /** The user's turns that are waiting now. */
  waitingOf(userId: string): number {
    return this.#waiting.get(userId) ?? 0;
  }

  /** A turn of this user took a waiting place. */
  add(userId: string): void {
    this.#waiting.set(userId, this.waitingOf(userId) + 1);
  }

  /** A turn of this user left the queue: it started, ended or was given up. */
  remove(userId: string): void {
    const left = this.waitingOf(userId) - 1;
    if (left > 0) this.#waiting.set(userId, left);
    else this.#waiting.delete(userId);
  }
}
