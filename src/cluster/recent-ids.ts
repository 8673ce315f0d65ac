/**
 * A bounded memory of the ids seen last, for dropping duplicates of at-least-once deliveries: a
 * resend comes soon after the original, so the newest few thousand ids are enough, and the
 * memory never grows past its capacity.
 */

/**
 * The last `capacity` distinct ids added, oldest forgotten first.
 *
 * @example
 * const seen = new RecentIds(10_000);
 * if (!seen.add(record.id)) return; // a duplicate
 */
export class RecentIds {
  readonly #capacity: number;
  /** A Set keeps insertion order: its first id is the oldest. */
  readonly #ids = new Set<string>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}.`);
    }
    this.#capacity = capacity;
  }

  /** Remembers `id`; false when it was already remembered (a duplicate). */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      const oldest = this.#ids.values().next();
      if (oldest.done !== true) this.#ids.delete(oldest.value);
    }
    return true;
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.#ids.size;
  }
}
