/**
 * Finds an arithmetic expression in a sentence, written with symbols or spoken operators ("5 + 3",
 * "12 divided by 4", "the square root of 16", "7 squared"), and writes it the way the calculator's
 * `evaluate` reads it. Words around it are skipped: "what is 5 + 3?" is `5 + 3`.
 */

type Token =
  { kind: 'number' | 'operator'; text: string } | { kind: 'open' | 'close' | 'sqrt' | 'other' };

const operator = (text: string): Token => ({ kind: 'operator', text });
const number = (text: string): Token => ({ kind: 'number', text });

// Spoken arithmetic and symbols, matched at the start of the lower-cased rest of the text; longer
// phrases come first so that "**" is a power and not two multiplications.
const ARITHMETIC_TOKENS: readonly (readonly [RegExp, readonly Token[]])[] = [
  [/^(?:the\s+)?(?:square\s+root|sqrt)\s+of\b|^sqrt\b|^√/, [{ kind: 'sqrt' }]],
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

/**
 * The first arithmetic expression in the text with at least one operation, as the calculator
 * reads it, or `undefined`.
 *
 * @example
 * findExpression("what's 12 divided by 4"); // '12 / 4'
 */
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
