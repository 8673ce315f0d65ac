/**
 * A fixed-capacity buffer that keeps the newest items: pushing past capacity overwrites the
 * oldest, in O(1) (unlike `Array.prototype.shift`).
 *
 * @example
 * const recent = new RingBuffer<number>(3);
 * [1, 2, 3, 4].forEach((n) => recent.push(n));
 * recent.toArray(); // [2, 3, 4]
 */
export class RingBuffer<T> {
  // Grows as items come, up to capacity: with one buffer per actor, 10,000 idle actors must not
  // each hold a full-size array.
  private readonly items: T[] = [];
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {}

  push(item: T): void {
    if (this.length < this.capacity) {
      this.items.push(item);
      this.length += 1;
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const result: T[] = [];
    for (let index = 0; index < this.length; index += 1) {
      result.push(this.items[(this.start + index) % this.length] as T);
    }
    return result;
  }
}
