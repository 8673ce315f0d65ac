import { describe, expect, it } from 'vitest';
import { replaceNumberWords } from './offline-number-words.js';

describe('replaceNumberWords', () => {
  it.each([
    ['twelve times seven', '12 times 7'],
    ['what is twenty five plus seventeen', 'what is 25 plus 17'],
    ['in twenty-one days', 'in 21 days'],
    ['one hundred and five minus five', '105 minus 5'],
    ['a hundred days from now', '100 days from now'],
    ['three thousand two hundred', '3200'],
    ['a dozen eggs', '12 eggs'],
    ['five five', '5 5'],
  ])('reads %j as %j', (text, expected) => {
    expect(replaceNumberWords(text)).toBe(expected);
  });

  it('leaves other words, dates and symbols as written', () => {
    for (const text of [
      'which one is it',
      'someone and anyone',
      '2026-01-01',
      '5-3',
      'a cat and a dog',
    ]) {
      expect(replaceNumberWords(text)).toBe(text.replace(/\bone\b/, '1'));
    }
  });
});
