/**
 * Closes sockets whose token expires (docs/WEBSOCKET_API.md, "Token lifetime"): one timer for the
 * whole server, set to the earliest expiry, over buckets of one second each. A timer per socket
 * would cost every idle JWT connection its own Node timer; this costs it a place in one set.
 */
import type { CloseCode } from '../errors.js';

/** What {@link TokenExpiry} closes: anything with a `close(code, reason)`. */
export interface Expirable {
  close(code: CloseCode, reason: string): void;
}

/** Options for {@link TokenExpiry}. */
export interface TokenExpiryOptions<TSocket extends Expirable> {
  /** Called for each socket whose expiry has passed (the server closes it with 4401). */
  onExpired: (socket: TSocket) => void;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Tracks when each socket's token expires and calls `onExpired` for it then.
 *
 * @example
 * const expiry = new TokenExpiry({
 *   onExpired: (socket) => socket.close(CLOSE_CODES.token_expired, 'token_expired'),
 * });
 * expiry.track(socket, payload.exp * 1000);
 * socket.once('close', () => expiry.untrack(socket));
 */
export class TokenExpiry<TSocket extends Expirable> {
  readonly #onExpired: (socket: TSocket) => void;
  readonly #now: () => number;
  /** Sockets by the second their token expires in. */
  readonly #buckets = new Map<number, Set<TSocket>>();
  /** Each tracked socket's bucket. */
  readonly #bucketOf = new Map<TSocket, number>();
  /** Bucket keys, ascending. */
  readonly #keys: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  constructor({ onExpired, now = Date.now }: TokenExpiryOptions<TSocket>) {
    this.#onExpired = onExpired;
    this.#now = now;
  }

  /** Sockets being tracked. */
  get size(): number {
    return this.#bucketOf.size;
  }

  /** Tracks (or moves) a socket: its token expires at `expiresAtMs` (epoch ms). */
  track(socket: TSocket, expiresAtMs: number): void {
    this.untrack(socket);
    const key = Math.ceil(expiresAtMs / 1000);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = new Set();
      this.#buckets.set(key, bucket);
      this.#keys.splice(this.#insertionIndex(key), 0, key);
    }
    bucket.add(socket);
    this.#bucketOf.set(socket, key);
    this.#schedule();
  }

  /** Stops tracking a socket (it closed). */
  untrack(socket: TSocket): void {
    const key = this.#bucketOf.get(socket);
    if (key === undefined) return;
    this.#bucketOf.delete(socket);
    const bucket = this.#buckets.get(key);
    bucket?.delete(socket);
    if (bucket?.size === 0) {
      this.#buckets.delete(key);
      this.#keys.splice(this.#keys.indexOf(key), 1);
    }
  }

  /** Stops the timer (server shutdown). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #insertionIndex(key: number): number {
    let low = 0;
    let high = this.#keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#keys[middle] ?? 0) < key) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #schedule(): void {
    const next = this.#keys[0];
    if (next === undefined) {
      this.stop();
      return;
    }
    const at = next * 1000;
    if (this.#timer !== undefined && at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.#expire();
      },
      Math.max(0, at - this.#now()),
    );
    // An expiry alone must not keep the process alive.
    this.#timer.unref();
  }

  #expire(): void {
    const now = this.#now();
    while (this.#keys[0] !== undefined && this.#keys[0] * 1000 <= now) {
      const key = this.#keys[0];
      const bucket = this.#buckets.get(key) ?? new Set<TSocket>();
      for (const socket of [...bucket]) {
        this.untrack(socket);
        this.#onExpired(socket);
      }
      if (this.#keys[0] === key) this.#keys.shift();
    }
    this.#schedule();
  }
}
