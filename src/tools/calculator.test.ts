import { describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import { calculatorTool } from './calculator.js';
import type { ToolExecutionContext } from './tool.js';

const context: ToolExecutionContext = { signal: new AbortController().signal, now: () => 0 };

async function calculate(input: unknown): Promise<unknown> {
  const parameters = calculatorTool.parameters.parse(input);
  return calculatorTool.execute(parameters, context);
}

async function failure(input: unknown): Promise<ParleyError> {
  const error: unknown = await calculate(input).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (error instanceof ParleyError) return error;
  throw new Error(`expected a ParleyError, got ${String(error)}`);
}

describe('calculatorTool', () => {
  it('is named calculator', () => {
    expect(calculatorTool.name).toBe('calculator');
  });

  it.each([
    [{ operation: 'add', a: 5, b: 3 }, '5 + 3', 8],
    [{ operation: 'subtract', a: 2, b: -3 }, '2 - (-3)', 5],
    [{ operation: 'multiply', a: 6, b: 7 }, '6 * 7', 42],
    [{ operation: 'divide', a: 1, b: 4 }, '1 / 4', 0.25],
    [{ operation: 'power', a: 2, b: 10 }, '2 ^ 10', 1024],
    [{ operation: 'mod', a: 17, b: 5 }, '17 % 5', 2],
    [{ operation: 'sqrt', a: 16 }, 'sqrt(16)', 4],
  ])('computes %o as %s = %d', async (input, expression, result) => {
    await expect(calculate(input)).resolves.toEqual({ expression, result });
  });

  it('evaluates the expression the offline model sends', async () => {
    await expect(calculate({ operation: 'evaluate', expression: '5 + 3' })).resolves.toEqual({
      expression: '5 + 3',
      result: 8,
    });
  });

  it('trims the expression it reports', async () => {
    await expect(
      calculate({ operation: 'evaluate', expression: '  (5 + 3) * 2 ^ 3 ' }),
    ).resolves.toEqual({ expression: '(5 + 3) * 2 ^ 3', result: 64 });
  });

  it('rounds to 12 significant digits so 0.1 + 0.2 is 0.3', async () => {
    await expect(calculate({ operation: 'add', a: 0.1, b: 0.2 })).resolves.toEqual({
      expression: '0.1 + 0.2',
      result: 0.3,
    });
    await expect(calculate({ operation: 'evaluate', expression: '1 / 3' })).resolves.toEqual({
      expression: '1 / 3',
      result: 0.333333333333,
    });
  });

  it('never reports negative zero', async () => {
    const output = (await calculate({ operation: 'multiply', a: -1, b: 0 })) as { result: number };
    expect(Object.is(output.result, 0)).toBe(true);
  });

  it('says which field is missing for the chosen operation', () => {
    const binary = calculatorTool.parameters.safeParse({ operation: 'divide' });
    expect(binary.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['a', '"a" is required when operation is "divide"'],
      ['b', '"b" is required when operation is "divide"'],
    ]);
    const sqrt = calculatorTool.parameters.safeParse({ operation: 'sqrt' });
    expect(sqrt.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['a']);
    const evaluate = calculatorTool.parameters.safeParse({ operation: 'evaluate', a: 1 });
    expect(evaluate.error?.issues[0]?.message).toBe(
      '"expression" is required when operation is "evaluate"',
    );
  });

  it('fails with tool_failed on division by zero', async () => {
    const error = await failure({ operation: 'divide', a: 1, b: 0 });
    expect(error.code).toBe('tool_failed');
    expect(error.message).toBe('Division by zero');
  });

  it('fails with tool_failed on modulo by zero', async () => {
    expect((await failure({ operation: 'mod', a: 1, b: 0 })).message).toBe('Modulo by zero');
  });

  it('fails with tool_failed on the square root of a negative number', async () => {
    const error = await failure({ operation: 'sqrt', a: -4 });
    expect(error.code).toBe('tool_failed');
    expect(error.message).toBe('Square root of a negative number (-4) is not a real number');
  });

  it('fails with tool_failed when a result overflows', async () => {
    expect((await failure({ operation: 'power', a: 10, b: 400 })).message).toBe(
      'The result of 10 ^ 400 is not finite',
    );
  });

  it('passes expression errors through with their position', async () => {
    const error = await failure({ operation: 'evaluate', expression: '2 $ 3' });
    expect(error.code).toBe('tool_failed');
    expect(error.message).toBe('Unexpected character "$" at position 3');
  });
});
