import { describe, expect, it } from 'vitest';
import { StreamedText } from './streamed-text.js';

describe('StreamedText', () => {
  it('joins pieces that arrive live in seq order', () => {
    const text = new StreamedText();
    text.add(4, '{"location":');
    expect(text.value).toBe('{"location":');
    text.add(5, '"Paris"}');
    expect(text.value).toBe('{"location":"Paris"}');
  });

  it('puts pieces from an older history page before those already shown', () => {
    const text = new StreamedText();
    // The newest page first (seq 7 and 8), then the page before it (5 and 6).
    text.add(7, 'Par');
    text.add(8, 'is"}');
    text.add(5, '{"loc');
    text.add(6, 'ation":"');
    expect(text.value).toBe('{"location":"Paris"}');
  });

  it('is empty before any piece', () => {
    expect(new StreamedText().value).toBe('');
  });
});
