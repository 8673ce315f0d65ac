import { describe, expect, it } from 'vitest';
import { routeArithmetic } from './offline-arithmetic.js';

describe('routeArithmetic', () => {
  it.each([
    ['square root of that', 'sqrt(16)'],
    ['sqrt of that', 'sqrt(16)'],
    ['what is the sqrt of it?', 'sqrt(16)'],
    ['sqrt that', 'sqrt(16)'],
  ])(
    'takes "%s" after 16 as %j (regression: "sqrt of that" got the fallback)',
    (clause, expression) => {
      expect(routeArithmetic(clause, 16)).toEqual({
        toolName: 'calculator',
        input: { operation: 'evaluate', expression },
      });
    },
  );

  it('reads "take the sqrt of 144" as the named sqrt operation, like "square root of"', () => {
    expect(routeArithmetic('take the sqrt of 144')).toEqual({
      toolName: 'calculator',
      input: { operation: 'sqrt', a: 144 },
    });
  });
});
