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
  private readonly items: (T | undefined)[];
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    const end = (this.start + this.length) % this.capacity;
    this.items[end] = item;
    if (this.length < this.capacity) this.length += 1;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const result: T[] = [];
    for (let index = 0; index < this.length; index += 1) {
      result.push(this.items[(this.start + index) % this.capacity] as T);
    }
    return result;
  }
}
