import { describe, expect, it } from 'vitest';
import { RecentIds } from './recent-ids.js';

describe('RecentIds', () => {
  it('says whether an id is new, and forgets the oldest past its capacity', () => {
    const seen = new RecentIds(3);

    expect(['a', 'b', 'a', 'c', 'd'].map((id) => seen.add(id))).toEqual([
      true,
      true,
      false,
      true,
      true,
    ]);
    expect(seen.size).toBe(3);
    expect(seen.add('a')).toBe(true);
    expect(seen.add('d')).toBe(false);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RecentIds(0)).toThrow(RangeError);
  });
});
