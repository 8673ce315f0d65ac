import { describe, expect, it } from 'vitest';
import { sanitize, stateToString } from './sanitize.js';

const limits = { maxString: 10, maxArray: 3, maxDepth: 3 };

describe('sanitize', () => {
  it('drops injected effects and functions and redacts anything that looks like a secret', () => {
    const context = {
      seq: 4,
      effects: { deliver: () => undefined },
      callback: () => undefined,
      jwtSecret: 'hunter2',
      headers: { authorization: 'Bearer abc' },
    };
    expect(sanitize(context, limits)).toEqual({
      seq: 4,
      jwtSecret: '[redacted]',
      headers: { authorization: '[redacted]' },
    });
  });

  it('cuts long strings and keeps the last items of long arrays, saying how much was left out', () => {
    expect(sanitize('abcdefghijklmnop', limits)).toBe('abcdefghij… (6 more characters)');
    expect(sanitize([1, 2, 3, 4, 5], limits)).toEqual({ truncated: 2, items: [3, 4, 5] });
  });

  it('shows an actor reference as its id and bounds the depth', () => {
    const actor = { id: 'conversation:demo', send: () => undefined };
    expect(sanitize({ a: { b: { c: { d: 1 } } }, actor }, limits)).toEqual({
      a: { b: { c: '…' } },
      actor: { actor: 'conversation:demo' },
    });
  });
});

describe('stateToString', () => {
  it('writes nested state values as dotted paths', () => {
    expect(stateToString('idle')).toBe('idle');
    expect(stateToString({ working: 'calling_tool' })).toBe('working.calling_tool');
    expect(stateToString({ open: { joined: {} } })).toBe('open.joined');
  });
});

describe('sanitize, regression', () => {
  it('regression: keeps usage fields such as input_tokens that merely contain "token"', () => {
    const usage = { input_tokens: 3, inputTokens: 3, token_pacing_ms: 30, accessToken: 'x' };
    expect(sanitize(usage, limits)).toEqual({
      input_tokens: 3,
      inputTokens: 3,
      token_pacing_ms: 30,
      accessToken: '[redacted]',
    });
  });
});
