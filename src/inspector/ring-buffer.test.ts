import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring-buffer.js';

describe('RingBuffer', () => {
  it('keeps every item until it is full, oldest first', () => {
    const buffer = new RingBuffer<number>(3);
    buffer.push(1);
    buffer.push(2);
    expect(buffer.toArray()).toEqual([1, 2]);
  });

  it('keeps only the newest items past its capacity', () => {
    const buffer = new RingBuffer<number>(3);
    for (let item = 1; item <= 7; item += 1) buffer.push(item);
    expect(buffer.toArray()).toEqual([5, 6, 7]);
  });
});
