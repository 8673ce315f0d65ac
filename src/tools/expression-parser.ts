/**
 * A safe arithmetic evaluator for the calculator tool: a tokenizer and a recursive-descent parser
 * that compute as they parse. Nothing here reaches `eval` or `Function`, so a model-written
 * expression can only ever produce a number or a `tool_failed` error that says what and where.
 *
 * Grammar, loosest binding first:
 * ```
 * expression = term (("+" | "-") term)*
 * term       = unary (("*" | "/" | "%") unary)*
 * unary      = ("-" | "+") unary | power
 * power      = primary ("^" unary)?          right-associative, binds tighter than unary minus
 * primary    = number | constant | function "(" expression ")" | "(" expression ")"
 * ```
 */
import { ParleyError } from '../errors.js';

/** Longest expression accepted, in characters. */
export const MAX_EXPRESSION_LENGTH = 500;

/** Deepest nesting of parentheses, unary signs and powers accepted. */
export const MAX_EXPRESSION_DEPTH = 100;

type Token =
  | { kind: 'number'; value: number; text: string; position: number }
  | { kind: 'name'; name: string; position: number }
  | { kind: 'operator'; operator: '+' | '-' | '*' | '/' | '%' | '^'; position: number }
  | { kind: 'open' | 'close'; position: number }
  | { kind: 'end'; position: number };

// Spellings people and models paste in, mapped to the operator they mean. Maps, not object
// literals: a lookup of `constructor` on an object would find `Object.prototype.constructor`.
const OPERATOR_ALIASES = new Map<string, '+' | '-' | '*' | '/' | '%' | '^'>([
  ['+', '+'],
  ['-', '-'],
  ['\u2212', '-'],
  ['*', '*'],
  ['\u00d7', '*'],
  ['/', '/'],
  ['\u00f7', '/'],
  ['%', '%'],
  ['^', '^'],
]);

const CONSTANTS = new Map<string, number>([
  ['pi', Math.PI],
  ['\u03c0', Math.PI],
  ['e', Math.E],
]);
const FUNCTIONS = ['sqrt', 'abs'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

const NUMBER_PATTERN = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME_PATTERN = /^[A-Za-z_\u03c0][A-Za-z0-9_]*/;

/**
 * Evaluates an arithmetic expression: numbers (`42`, `0.5`, `1e3`), `+ - * / % ^` (also `×`, `÷`
 * and `**`), parentheses, unary signs, `sqrt(x)`, `abs(x)` and the constants `pi` and `e`.
 * `^` is right-associative and binds tighter than unary minus, so `-2^2` is `-4`; `%` keeps the
 * sign of the dividend, as in JavaScript.
 *
 * Throws a `ParleyError` with code `tool_failed` for anything it cannot compute (division or
 * modulo by zero, the square root of a negative number, an unexpected character, unbalanced
 * parentheses, an empty expression, a result that is not finite); the message names the
 * 1-based character position, which is also in `details.position`.
 *
 * @example
 * evaluateExpression('(5 + 3) * 2 ^ 3'); // 64
 * evaluateExpression('sqrt(16) + abs(-2)'); // 6
 */
export function evaluateExpression(expression: string): number {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new ParleyError(
      'tool_failed',
      `Expression is too long: ${expression.length} characters, at most ${MAX_EXPRESSION_LENGTH} allowed`,
    );
  }
  if (expression.trim() === '') throw new ParleyError('tool_failed', 'Empty expression');
  return new Parser(tokenize(expression)).parse();
}

function failAt(position: number, message: string): ParleyError {
  return new ParleyError('tool_failed', `${message} at position ${position + 1}`, {
    details: { position: position + 1 },
  });
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < expression.length) {
    const rest = expression.slice(index);
    const character = rest[0] ?? '';
    if (/\s/.test(character)) {
      index += 1;
      continue;
    }
    const number = NUMBER_PATTERN.exec(rest)?.[0];
    if (number !== undefined) {
      tokens.push({ kind: 'number', value: Number(number), text: number, position: index });
      index += number.length;
      continue;
    }
    const name = NAME_PATTERN.exec(rest)?.[0];
    if (name !== undefined) {
      tokens.push({ kind: 'name', name: name.toLowerCase(), position: index });
      index += name.length;
      continue;
    }
    // `**` is checked before the one-character table, which would read it as two multiplications.
    if (rest.startsWith('**')) {
      tokens.push({ kind: 'operator', operator: '^', position: index });
      index += 2;
      continue;
    }
    const operator = OPERATOR_ALIASES.get(character);
    if (operator !== undefined) tokens.push({ kind: 'operator', operator, position: index });
    else if (character === '(') tokens.push({ kind: 'open', position: index });
    else if (character === ')') tokens.push({ kind: 'close', position: index });
    else throw failAt(index, `Unexpected character "${character}"`);
    index += 1;
  }
  tokens.push({ kind: 'end', position: expression.length });
  return tokens;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): number {
    const value = this.parseExpression();
    const next = this.peek();
    if (next.kind === 'close') throw failAt(next.position, 'Unbalanced parentheses: unmatched ")"');
    if (next.kind !== 'end') throw failAt(next.position, `Unexpected ${describe(next)}`);
    return value;
  }

  private peek(): Token {
    // The tokenizer always ends the list with an `end` token, so this never runs past it.
    return this.tokens[this.index] ?? { kind: 'end', position: 0 };
  }

  private advance(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index += 1;
    return token;
  }

  private parseExpression(): number {
    let value = this.parseTerm();
    for (let token = this.peek(); token.kind === 'operator'; token = this.peek()) {
      if (token.operator !== '+' && token.operator !== '-') break;
      this.advance();
      const right = this.parseTerm();
      value = finite(token.operator === '+' ? value + right : value - right, token);
    }
    return value;
  }

  private parseTerm(): number {
    let value = this.parseUnary();
    for (let token = this.peek(); token.kind === 'operator'; token = this.peek()) {
      const { operator } = token;
      if (operator !== '*' && operator !== '/' && operator !== '%') break;
      this.advance();
      const right = this.parseUnary();
      if (operator === '/' && right === 0) throw failAt(token.position, 'Division by zero');
      if (operator === '%' && right === 0) throw failAt(token.position, 'Modulo by zero');
      const result =
        operator === '*' ? value * right : operator === '/' ? value / right : value % right;
      value = finite(result, token);
    }
    return value;
  }

  private parseUnary(): number {
    const token = this.peek();
    this.depth += 1;
    if (this.depth > MAX_EXPRESSION_DEPTH) {
      throw failAt(token.position, `Expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels`);
    }
    let value: number;
    if (token.kind === 'operator' && (token.operator === '-' || token.operator === '+')) {
      this.advance();
      const operand = this.parseUnary();
      value = token.operator === '-' ? -operand : operand;
    } else {
      value = this.parsePower();
    }
    this.depth -= 1;
    return value;
  }

  private parsePower(): number {
    const base = this.parsePrimary();
    const token = this.peek();
    if (token.kind !== 'operator' || token.operator !== '^') return base;
    this.advance();
    // The exponent goes through `parseUnary`, which makes `2^3^2` group as `2^(3^2)` and allows `2^-1`.
    const exponent = this.parseUnary();
    if (base === 0 && exponent < 0) throw failAt(token.position, 'Division by zero');
    const result = base ** exponent;
    if (Number.isNaN(result)) {
      throw failAt(token.position, `${base} ^ ${exponent} is not a real number`);
    }
    return finite(result, token);
  }

  private parsePrimary(): number {
    const token = this.advance();
    switch (token.kind) {
      case 'number':
        if (!Number.isFinite(token.value)) {
          throw failAt(token.position, `Number ${token.text} is too large`);
        }
        return token.value;
      case 'open':
        return this.parseGroup(token.position);
      case 'name':
        return this.parseName(token);
      case 'close':
        throw failAt(token.position, 'Unexpected ")"');
      case 'operator':
        throw failAt(token.position, `Unexpected operator "${token.operator}"`);
      case 'end':
        throw failAt(token.position, 'Unexpected end of expression, expected a number');
    }
  }

  private parseGroup(openPosition: number): number {
    const value = this.parseExpression();
    if (this.peek().kind !== 'close') {
      throw failAt(openPosition, 'Unbalanced parentheses: missing ")" for "("');
    }
    this.advance();
    return value;
  }

  private parseName(token: Extract<Token, { kind: 'name' }>): number {
    const constant = CONSTANTS.get(token.name);
    if (constant !== undefined) return constant;
    if (!isFunctionName(token.name)) {
      throw failAt(
        token.position,
        `Unknown name "${token.name}" (known: ${[...FUNCTIONS, 'pi', 'e'].join(', ')})`,
      );
    }
    const open = this.advance();
    if (open.kind !== 'open') throw failAt(open.position, `Expected "(" after ${token.name}`);
    const argument = this.parseGroup(open.position);
    if (token.name === 'abs') return Math.abs(argument);
    if (argument < 0) {
      throw failAt(
        token.position,
        `Square root of a negative number (${argument}) is not a real number`,
      );
    }
    return Math.sqrt(argument);
  }
}

function isFunctionName(name: string): name is FunctionName {
  return (FUNCTIONS as readonly string[]).includes(name);
}

function finite(value: number, token: Token): number {
  if (!Number.isFinite(value)) throw failAt(token.position, 'Result is not a finite number');
  return value;
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'number':
      return `number ${token.text}`;
    case 'name':
      return `"${token.name}"`;
    case 'operator':
      return `operator "${token.operator}"`;
    case 'open':
      return '"("';
    case 'close':
      return '")"';
    case 'end':
      return 'end of expression';
  }
}
