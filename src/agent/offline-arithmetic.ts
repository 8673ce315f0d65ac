/**
 * Arithmetic in chat: symbols and spoken operators ("5 + 3", "12 divided by 4", "7 squared"),
 * number words ("twelve times seven"), the calculator's named operations ("add 4 and 5",
 * "subtract 9 from 20"), percentages ("15% of 200") and follow-ups on the previous result
 * ("multiply that by 2").
 */
import { replaceNumberWords } from './offline-number-words.js';
import type { OfflineToolCall } from './offline-rules.js';

const NUMBER_TEXT = String.raw`-?\d+(?:,\d{3})*(?:\.\d+)?`;
const NUMBER_PATTERN = new RegExp(`^${NUMBER_TEXT}$`);

/**
 * The calculator call a clause asks for, if any. `previous` is the last result in the
 * conversation, which "that", "it" and "the result" refer to, and which a clause that starts with
 * an operator ("times 3") continues.
 *
 * @example
 * routeArithmetic('subtract 9 from 20'); // { toolName: 'calculator', input: { operation: 'subtract', a: 20, b: 9 } }
 * routeArithmetic('multiply that by 2', 8); // { …, input: { operation: 'multiply', a: 8, b: 2 } }
 */
export function routeArithmetic(clause: string, previous?: number): OfflineToolCall | undefined {
  const spelled = replaceNumberWords(clause);
  const resolved = previous === undefined ? spelled : withPrevious(spelled, previous);
  return namedOperation(resolved) ?? percentage(resolved) ?? expressionCall(resolved);
}

// "that", "it", "the result", "the answer", "this" stand for the previous result.
const REFERENCE =
  /\b(?:the (?:last |previous )?(?:result|answer|number)|that(?: number)?|this|it)\b/gi;

function withPrevious(clause: string, previous: number): string {
  const value = String(previous);
  const replaced = clause.replace(REFERENCE, value);
  // "times 3", "and divide by 4", "plus 5?": an operator first continues the previous result.
  const continued =
    /^\s*(?:(?:and|then|now)\s+)?(?:times|plus|minus|divided by|multiplied by|to the power of|squared|cubed|mod|[-+*/x×÷^])(?:\s|\d|$)/i;
  if (continued.test(replaced)) {
    return `${value} ${replaced.replace(/^\s*(?:and|then|now)\s+/i, '')}`;
  }
  return replaced;
}

type Operation = 'add' | 'subtract' | 'multiply' | 'divide' | 'power' | 'mod' | 'sqrt';

const N = String.raw`(${NUMBER_TEXT})`;
// Verb phrases for the calculator's named operations; `a` and `b` say which capture is which.
const NAMED: readonly {
  pattern: RegExp;
  operation: Operation;
  a: number;
  b?: number;
  fixedB?: number;
}[] = [
  {
    pattern: new RegExp(String.raw`\b(?:add|sum(?: up)?)\s+${N}\s+(?:and|to|with|\+)\s+${N}`, 'i'),
    operation: 'add',
    a: 1,
    b: 2,
  },
  {
    pattern: new RegExp(String.raw`\b(?:the )?sum of\s+${N}\s+and\s+${N}`, 'i'),
    operation: 'add',
    a: 1,
    b: 2,
  },
  {
    pattern: new RegExp(String.raw`\b(?:subtract|take away|take|deduct)\s+${N}\s+from\s+${N}`, 'i'),
    operation: 'subtract',
    a: 2,
    b: 1,
  },
  {
    pattern: new RegExp(String.raw`\b(?:the )?difference (?:between|of)\s+${N}\s+and\s+${N}`, 'i'),
    operation: 'subtract',
    a: 1,
    b: 2,
  },
  {
    pattern: new RegExp(String.raw`\bmultiply\s+${N}\s+(?:by|and|with|times)\s+${N}`, 'i'),
    operation: 'multiply',
    a: 1,
    b: 2,
  },
  {
    pattern: new RegExp(String.raw`\b(?:the )?product of\s+${N}\s+and\s+${N}`, 'i'),
    operation: 'multiply',
    a: 1,
    b: 2,
  },
  {
    pattern: new RegExp(String.raw`\bdivide\s+${N}\s+(?:by|into)\s+${N}`, 'i'),
    operation: 'divide',
    a: 1,
    b: 2,
  },
  {
    pattern: new RegExp(String.raw`\b(?:the )?quotient of\s+${N}\s+and\s+${N}`, 'i'),
    operation: 'divide',
    a: 1,
    b: 2,
  },
  {
    pattern: new RegExp(String.raw`\braise\s+${N}\s+to(?: the)?(?: power of)?\s+${N}`, 'i'),
    operation: 'power',
    a: 1,
    b: 2,
  },
  {
    pattern: new RegExp(
      String.raw`\bremainder (?:of|when)\s+${N}\s+(?:is )?(?:divided by|by|/)\s+${N}`,
      'i',
    ),
    operation: 'mod',
    a: 1,
    b: 2,
  },
  {
    pattern: new RegExp(
      String.raw`\b(?:take|find|get|compute|calculate|work out)\s+(?:the\s+)?square root of\s+${N}\s*$`,
      'i',
    ),
    operation: 'sqrt',
    a: 1,
  },
  { pattern: new RegExp(String.raw`\bdouble\s+${N}`, 'i'), operation: 'multiply', a: 1, fixedB: 2 },
  { pattern: new RegExp(String.raw`\btriple\s+${N}`, 'i'), operation: 'multiply', a: 1, fixedB: 3 },
  {
    pattern: new RegExp(String.raw`\b(?:halve|half of)\s+${N}`, 'i'),
    operation: 'divide',
    a: 1,
    fixedB: 2,
  },
];

function namedOperation(clause: string): OfflineToolCall | undefined {
  const text = clause.replace(/[?!.\s]+$/, '');
  for (const { pattern, operation, a, b, fixedB } of NAMED) {
    const match = pattern.exec(text);
    if (match === null) continue;
    const input: Record<string, string | number> = { operation, a: toNumber(match[a]) };
    if (b !== undefined) input['b'] = toNumber(match[b]);
    if (fixedB !== undefined) input['b'] = fixedB;
    return { toolName: 'calculator', input };
  }
  return undefined;
}

// "15% of 200", "15 percent of 200", "what percent is 30 of 200", "200 plus 15%", "20% off 50".
function percentage(clause: string): OfflineToolCall | undefined {
  const evaluate = (expression: string): OfflineToolCall => ({
    toolName: 'calculator',
    input: { operation: 'evaluate', expression },
  });
  const percent = String.raw`${N}\s*(?:%|percent|per cent|pct)`;
  const of = new RegExp(String.raw`${percent}\s+of\s+${N}`, 'i').exec(clause);
  if (of !== null) return evaluate(`${plain(of[1])} / 100 * ${plain(of[2])}`);
  const share =
    new RegExp(
      String.raw`what (?:percent(?:age)?|%)\s+(?:is|of)\s+${N}\s+(?:of|out of|from)\s+${N}`,
      'i',
    ).exec(clause) ??
    new RegExp(String.raw`${N}\s+(?:is )?(?:what|which) (?:percent(?:age)?|%) of\s+${N}`, 'i').exec(
      clause,
    );
  if (share !== null) return evaluate(`${plain(share[1])} / ${plain(share[2])} * 100`);
  const off = new RegExp(String.raw`${percent}\s+off\s+${N}`, 'i').exec(clause);
  if (off !== null) return evaluate(`${plain(off[2])} * (1 - ${plain(off[1])} / 100)`);
  const change =
    new RegExp(String.raw`${N}\s+(plus|minus|\+|-)\s+${percent}`, 'i').exec(clause) ??
    new RegExp(String.raw`(?:increase|raise)\s+${N}\s+by\s+${percent}`, 'i').exec(clause);
  if (change !== null) {
    const [, base, sign, rate]: readonly (string | undefined)[] =
      change.length === 4 ? change : [change[0], change[1], '+', change[2]];
    const factor = /minus|-/i.test(sign ?? '+') ? '-' : '+';
    return evaluate(`${plain(base)} * (1 ${factor} ${plain(rate)} / 100)`);
  }
  const decrease = new RegExp(
    String.raw`(?:decrease|reduce|lower)\s+${N}\s+by\s+${percent}`,
    'i',
  ).exec(clause);
  if (decrease !== null)
    return evaluate(`${plain(decrease[1])} * (1 - ${plain(decrease[2])} / 100)`);
  return undefined;
}

function expressionCall(clause: string): OfflineToolCall | undefined {
  const expression = findExpression(clause);
  return expression === undefined
    ? undefined
    : { toolName: 'calculator', input: { operation: 'evaluate', expression } };
}

function plain(text: string | undefined): string {
  return (text ?? '').replaceAll(',', '');
}

function toNumber(text: string | undefined): number {
  const value = Number(plain(text));
  return NUMBER_PATTERN.test(text ?? '') ? value : Number.NaN;
}

type Token =
  { kind: 'number' | 'operator'; text: string } | { kind: 'open' | 'close' | 'sqrt' | 'other' };

const operator = (text: string): Token => ({ kind: 'operator', text });
const number = (text: string): Token => ({ kind: 'number', text });

// Spoken arithmetic and symbols, matched at the start of the lower-cased rest of the text; longer
// phrases come first so that "**" is a power and not two multiplications.
const ARITHMETIC_TOKENS: readonly (readonly [RegExp, readonly Token[]])[] = [
  [/^(?:the\s+)?square\s+root\s+of\b|^sqrt\b|^√/, [{ kind: 'sqrt' }]],
  [/^(?:raised\s+)?to\s+the\s+power\s+of\b|^\*\*|^\^/, [operator('^')]],
  [/^divided\s+by\b|^[/÷]/, [operator('/')]],
  [/^(?:multiplied\s+by|times)\b|^[*×]|^x(?=\s*[\d(.])/, [operator('*')]],
  [/^plus\b|^\+/, [operator('+')]],
  [/^minus\b|^[-−]/, [operator('-')]],
  [/^(?:mod|modulo)\b|^%/, [operator('%')]],
  [/^squared\b/, [operator('^'), number('2')]],
  [/^cubed\b/, [operator('^'), number('3')]],
  [/^\(/, [{ kind: 'open' }]],
  [/^\)/, [{ kind: 'close' }]],
];
// Thousands separators are accepted ("1,000"), so a comma only ends a number before 1–2 digits.
const NUMBER = /^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|^\.\d+/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let rest = text.toLowerCase().trimStart();
  while (rest !== '') {
    const [matched, produced] = nextToken(rest);
    tokens.push(...produced);
    rest = rest.slice(matched.length).trimStart();
  }
  return tokens;
}

function nextToken(rest: string): readonly [string, readonly Token[]] {
  const digits = NUMBER.exec(rest)?.[0];
  if (digits !== undefined) return [digits, [number(digits.replaceAll(',', ''))]];
  for (const [pattern, produced] of ARITHMETIC_TOKENS) {
    const matched = pattern.exec(rest)?.[0];
    if (matched !== undefined) return [matched, produced];
  }
  return [/^[\p{L}']+|^\S/u.exec(rest)?.[0] ?? rest, [{ kind: 'other' }]];
}

/** A parsed expression: where it ends, how the calculator reads it, and how many operations it has. */
type Parsed = { end: number; text: string; operators: number };

/** The first arithmetic expression with at least one operation, written as the calculator reads it. */
export function findExpression(clause: string): string | undefined {
  const tokens = tokenize(clause);
  for (let start = 0; start < tokens.length; start += 1) {
    const parsed = parseExpression(tokens, start);
    if (parsed !== undefined && parsed.operators > 0) return parsed.text;
  }
  return undefined;
}

function parseExpression(tokens: readonly Token[], start: number): Parsed | undefined {
  const first = parseTerm(tokens, start);
  if (first === undefined) return undefined;
  let { end, text, operators } = first;
  for (;;) {
    const token = tokens[end];
    // An operator with nothing valid after it ("5 + apples") is left out rather than failing.
    const next = token?.kind === 'operator' ? parseTerm(tokens, end + 1) : undefined;
    if (token?.kind !== 'operator' || next === undefined) return { end, text, operators };
    text = `${text} ${token.text} ${next.text}`;
    end = next.end;
    operators += 1 + next.operators;
  }
}

function parseTerm(tokens: readonly Token[], start: number): Parsed | undefined {
  const token = tokens[start];
  switch (token?.kind) {
    case 'number':
      return { end: start + 1, text: token.text, operators: 0 };
    case 'operator': {
      const operand = token.text === '-' ? parseTerm(tokens, start + 1) : undefined;
      return operand && { ...operand, text: `-${operand.text}` };
    }
    case 'open': {
      const inner = parseExpression(tokens, start + 1);
      if (inner === undefined || tokens[inner.end]?.kind !== 'close') return undefined;
      return { end: inner.end + 1, text: `(${inner.text})`, operators: inner.operators };
    }
    case 'sqrt': {
      const operand = parseTerm(tokens, start + 1);
      if (operand === undefined) return undefined;
      const grouped = tokens[start + 1]?.kind === 'open' ? operand.text : `(${operand.text})`;
      return { end: operand.end, text: `sqrt${grouped}`, operators: operand.operators + 1 };
    }
    case 'close':
    case 'other':
    case undefined:
      return undefined;
  }
}
