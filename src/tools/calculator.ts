/**
 * The `calculator` tool: one arithmetic operation on `a` and `b`, or a whole expression evaluated
 * by the safe parser in ./expression-parser.ts.
 */
import { z } from 'zod';
import { ParleyError } from '../errors.js';
import { evaluateExpression, MAX_EXPRESSION_LENGTH } from './expression-parser.js';
import { defineTool } from './tool.js';

const BINARY_OPERATIONS = ['add', 'subtract', 'multiply', 'divide', 'power', 'mod'] as const;
type BinaryOperation = (typeof BINARY_OPERATIONS)[number];

const SYMBOLS: Record<BinaryOperation, string> = {
  add: '+',
  subtract: '-',
  multiply: '*',
  divide: '/',
  power: '^',
  mod: '%',
};

/** Parameters of the `calculator` tool; says which field is missing for the chosen operation. */
const calculatorParameters = z
  .object({
    operation: z
      .enum([...BINARY_OPERATIONS, 'sqrt', 'evaluate'])
      .describe('What to compute. Use "evaluate" for a whole expression such as "(5 + 3) * 2".'),
    a: z.number().optional().describe('First operand (the only one for sqrt).'),
    b: z.number().optional().describe('Second operand for binary operations.'),
    expression: z
      .string()
      .max(MAX_EXPRESSION_LENGTH)
      .optional()
      .describe(
        'Arithmetic expression for "evaluate": + - * / % ^, parentheses, sqrt, abs, pi, e.',
      ),
  })
  .superRefine((parameters, context) => {
    const required: ('a' | 'b' | 'expression')[] =
      parameters.operation === 'evaluate'
        ? ['expression']
        : parameters.operation === 'sqrt'
          ? ['a']
          : ['a', 'b'];
    for (const field of required) {
      if (parameters[field] !== undefined) continue;
      context.addIssue({
        code: 'custom',
        path: [field],
        message: `"${field}" is required when operation is "${parameters.operation}"`,
      });
    }
  });

/** What the calculator returns: a readable form of what it computed, and the result. */
export interface CalculatorResult {
  /** E.g. `5 + 3`, `sqrt(16)`, or the trimmed input of `evaluate`. */
  expression: string;
  /** Rounded to 12 significant digits, so `0.1 + 0.2` is `0.3`. */
  result: number;
}

/**
 * Arithmetic for the agent: `add`, `subtract`, `multiply`, `divide`, `power` and `mod` on `a` and
 * `b`, `sqrt` of `a`, or `evaluate` of an `expression`. Errors (division by zero, the square root
 * of a negative number, a malformed expression) are `tool_failed` with a message for the model.
 *
 * @example
 * await registry.execute('calculator', { operation: 'add', a: 5, b: 3 }, context);
 * // { expression: '5 + 3', result: 8 }
 * await registry.execute('calculator', { operation: 'evaluate', expression: '(5 + 3) * 2' }, context);
 * // { expression: '(5 + 3) * 2', result: 16 }
 */
export const calculatorTool = defineTool({
  name: 'calculator',
  description:
    'Does exact arithmetic. Use it for any calculation instead of computing in your head: pick an operation with a and b, or "evaluate" with an expression.',
  parameters: calculatorParameters,
  execute(parameters): CalculatorResult {
    // The schema guarantees the fields each operation needs; the fallbacks only satisfy the types.
    const { a = Number.NaN, b = Number.NaN } = parameters;
    switch (parameters.operation) {
      case 'evaluate': {
        const expression = (parameters.expression ?? '').trim();
        return { expression, result: roundResult(evaluateExpression(expression)) };
      }
      case 'sqrt': {
        const expression = `sqrt(${formatOperand(a)})`;
        if (a < 0) {
          throw new ParleyError(
            'tool_failed',
            `Square root of a negative number (${a}) is not a real number`,
          );
        }
        return { expression, result: roundResult(Math.sqrt(a)) };
      }
      case 'add':
      case 'subtract':
      case 'multiply':
      case 'divide':
      case 'power':
      case 'mod': {
        const expression = `${formatOperand(a)} ${SYMBOLS[parameters.operation]} ${formatOperand(b)}`;
        return { expression, result: roundResult(binary(parameters.operation, a, b)) };
      }
    }
  },
});

function binary(operation: BinaryOperation, a: number, b: number): number {
  if (operation === 'divide' && b === 0) throw new ParleyError('tool_failed', 'Division by zero');
  if (operation === 'mod' && b === 0) throw new ParleyError('tool_failed', 'Modulo by zero');
  const result = {
    add: () => a + b,
    subtract: () => a - b,
    multiply: () => a * b,
    divide: () => a / b,
    power: () => a ** b,
    mod: () => a % b,
  }[operation]();
  if (Number.isNaN(result)) {
    throw new ParleyError('tool_failed', `${a} ${SYMBOLS[operation]} ${b} is not a real number`);
  }
  if (!Number.isFinite(result)) {
    throw new ParleyError(
      'tool_failed',
      `The result of ${a} ${SYMBOLS[operation]} ${b} is not finite`,
    );
  }
  return result;
}

// Negative operands are bracketed so `2 - -3` reads as `2 - (-3)` and `(-2) ^ 2` is unambiguous.
function formatOperand(value: number): string {
  return value < 0 ? `(${value})` : String(value);
}

/** Rounds to 12 significant digits, hiding binary floating-point noise such as `0.30000000000000004`. */
function roundResult(value: number): number {
  const rounded = Number(value.toPrecision(12));
  // `toPrecision` keeps the sign of negative zero; nobody wants to read `-0`.
  return rounded === 0 ? 0 : rounded;
}
