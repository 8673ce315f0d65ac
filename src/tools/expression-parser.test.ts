import { describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import { evaluateExpression } from './expression-parser.js';

function errorOf(expression: string): ParleyError {
  try {
    evaluateExpression(expression);
  } catch (error) {
    if (error instanceof ParleyError) return error;
    throw error;
  }
  throw new Error(`expected "${expression}" to throw`);
}

describe('evaluateExpression', () => {
  it('evaluates (5 + 3) * 2 ^ 3 to 64', () => {
    expect(evaluateExpression('(5 + 3) * 2 ^ 3')).toBe(64);
  });

  it.each([
    ['2 + 3 * 4', 14],
    ['(2 + 3) * 4', 20],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['7 % 4 * 2', 6],
    ['2 * 3 ^ 2', 18],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['(-2) ^ 2', 4],
    ['2 ^ -1', 0.5],
    ['- -3', 3],
    ['+4', 4],
    ['-7 % 3', -1],
  ])('applies precedence and associativity: %s = %d', (expression, expected) => {
    expect(evaluateExpression(expression)).toBe(expected);
  });

  it('reads integers, decimals and scientific notation', () => {
    expect(evaluateExpression('42')).toBe(42);
    expect(evaluateExpression('0.5 + .25 + 2.')).toBe(2.75);
    expect(evaluateExpression('1e3 + 2.5E-1 + 1e+2')).toBe(1100.25);
  });

  it('knows sqrt, abs, pi and e', () => {
    expect(evaluateExpression('sqrt(16) + abs(-2)')).toBe(6);
    expect(evaluateExpression('sqrt(2 * 8)')).toBe(4);
    expect(evaluateExpression('pi')).toBe(Math.PI);
    expect(evaluateExpression('2 * e')).toBe(2 * Math.E);
    expect(evaluateExpression('PI')).toBe(Math.PI);
  });

  it('accepts ×, ÷ and ** as aliases', () => {
    expect(evaluateExpression('6 × 7')).toBe(42);
    expect(evaluateExpression('84 ÷ 2')).toBe(42);
    expect(evaluateExpression('2 ** 10')).toBe(1024);
    expect(evaluateExpression('-2 ** 2')).toBe(-4);
  });

  it('ignores whitespace, including none at all', () => {
    expect(evaluateExpression('  (1+2)*3\t')).toBe(9);
  });

  it('reports division by zero with its position', () => {
    const error = errorOf('1 / (2 - 2)');
    expect(error.code).toBe('tool_failed');
    expect(error.message).toBe('Division by zero at position 3');
    expect(error.details).toEqual({ position: 3 });
  });

  it('reports modulo by zero', () => {
    expect(errorOf('5 % 0').message).toBe('Modulo by zero at position 3');
  });

  it('reports the square root of a negative number', () => {
    const error = errorOf('sqrt(-4)');
    expect(error.code).toBe('tool_failed');
    expect(error.message).toBe(
      'Square root of a negative number (-4) is not a real number at position 1',
    );
  });

  it('reports an unexpected character with its 1-based position', () => {
    expect(() => evaluateExpression('2 $ 3')).toThrow('Unexpected character "$" at position 3');
    expect(errorOf('2 $ 3').code).toBe('tool_failed');
  });

  it('never evaluates JavaScript', () => {
    expect(errorOf('process').message).toBe(
      'Unknown name "process" (known: sqrt, abs, pi, e) at position 1',
    );
    expect(errorOf('process.exit(1)').message).toBe('Unexpected character "." at position 8');
    // Regression: `constructor` once resolved to `Object.prototype.constructor` as a constant.
    expect(errorOf('constructor').message).toBe(
      'Unknown name "constructor" (known: sqrt, abs, pi, e) at position 1',
    );
    expect(errorOf('__proto__ + 1').code).toBe('tool_failed');
  });

  it('reports unbalanced parentheses in both directions', () => {
    expect(errorOf('(1 + 2').message).toBe(
      'Unbalanced parentheses: missing ")" for "(" at position 1',
    );
    expect(errorOf('1 + 2)').message).toBe('Unbalanced parentheses: unmatched ")" at position 6');
  });

  it('reports an empty expression', () => {
    expect(errorOf('').message).toBe('Empty expression');
    expect(errorOf('   ').message).toBe('Empty expression');
  });

  it('reports an expression that ends after an operator', () => {
    expect(errorOf('5 +').message).toBe(
      'Unexpected end of expression, expected a number at position 4',
    );
  });

  it('reports two values without an operator between them', () => {
    expect(errorOf('2 3').message).toBe('Unexpected number 3 at position 3');
    expect(errorOf('2(3)').message).toBe('Unexpected "(" at position 2');
  });

  it('requires parentheses after a function name', () => {
    expect(errorOf('sqrt 4').message).toBe('Expected "(" after sqrt at position 6');
  });

  it('rejects results that are not finite', () => {
    expect(errorOf('10 ^ 400').message).toBe('Result is not a finite number at position 4');
    expect(errorOf('1e400').message).toBe('Number 1e400 is too large at position 1');
    expect(errorOf('(-8) ^ 0.5').message).toBe('-8 ^ 0.5 is not a real number at position 6');
  });

  it('rejects expressions longer than 500 characters', () => {
    const expression = Array.from({ length: 251 }, () => '1').join('+');
    expect(expression.length).toBe(501);
    expect(errorOf(expression).message).toBe(
      'Expression is too long: 501 characters, at most 500 allowed',
    );
  });

  it('rejects nesting deeper than 100 levels without overflowing the stack', () => {
    expect(evaluateExpression(`${'('.repeat(99)}1${')'.repeat(99)}`)).toBe(1);
    expect(errorOf(`${'('.repeat(150)}1${')'.repeat(150)}`).message).toBe(
      'Expression nests deeper than 100 levels at position 101',
    );
    expect(errorOf(`${'-'.repeat(200)}1`).message).toMatch(/^Expression nests deeper than 100/);
  });
});
