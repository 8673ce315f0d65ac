/**
 * Arithmetic in chat: symbols and spoken operators ("5 + 3", "12 divided by 4", "7 squared"),
 * number words ("twelve times seven"), the calculator's named operations ("add 4 and 5",
 * "subtract 9 from 20"), percentages ("15% of 200") and follow-ups on the previous result
 * ("multiply that by 2").
 */
import { findExpression } from './offline-expression.js';
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
      String.raw`\b(?:take|find|get|compute|calculate|work out)\s+(?:the\s+)?(?:square root|sqrt) of\s+${N}\s*$`,
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
