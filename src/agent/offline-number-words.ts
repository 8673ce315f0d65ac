/**
 * Numbers written in words, as people type them: "twelve", "twenty-five", "one hundred and five",
 * "3 thousand", "a dozen". The offline model turns them into digits before it looks for a
 * calculation or a duration.
 */

const UNITS: Readonly<Record<string, number>> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fourty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  dozen: 12,
};

const SCALES: Readonly<Record<string, number>> = {
  hundred: 100,
  thousand: 1_000,
  million: 1_000_000,
  billion: 1_000_000_000,
};

const WORD = /^[a-z]+$/;

/**
 * Replaces each run of number words with its value in digits; other text is kept as written.
 * "a" and "and" join a run only inside it ("a hundred", "one hundred and five").
 *
 * @example
 * replaceNumberWords('what is twelve times seven'); // 'what is 12 times 7'
 * replaceNumberWords('in twenty-one days'); // 'in 21 days'
 */
export function replaceNumberWords(text: string): string {
  const tokens = text.split(/(\s+|-)/);
  const output: string[] = [];
  let index = 0;
  while (index < tokens.length) {
    const run = readNumber(tokens, index);
    if (run === undefined) {
      output.push(tokens[index] ?? '');
      index += 1;
      continue;
    }
    output.push(String(run.value));
    index = run.end;
  }
  return output.join('');
}

/** The number that starts at `start`, if any, and the index of the first token after it. */
function readNumber(
  tokens: readonly string[],
  start: number,
): { value: number; end: number } | undefined {
  // A run starts at a word, so the space before it stays in the text.
  if (/^\s*$|^-$/.test(tokens[start] ?? '')) return undefined;
  let total = 0;
  let current = 0;
  let seen = false;
  let end = start;
  for (let index = start; index < tokens.length; index += 1) {
    const token = tokens[index] ?? '';
    if (/^\s+$|^-$/.test(token)) continue;
    const word = token.toLowerCase();
    if (!WORD.test(word)) break;
    const unit = UNITS[word];
    const scale = SCALES[word];
    if (unit !== undefined) {
      // "twenty five" adds up; "five five" does not, so a second small number ends the run.
      if (seen && current % 10 !== 0 && unit < 10) break;
      if (seen && current !== 0 && unit >= 10 && current < 100 && current % 100 !== 0) break;
      current += unit;
    } else if (scale !== undefined) {
      if (!seen && word !== 'hundred') break;
      current = Math.max(current, 1) * scale;
      if (scale >= 1000) {
        total += current;
        current = 0;
      }
    } else if (
      (word === 'and' || word === 'a' || word === 'an') &&
      continuesNumber(tokens, index, seen)
    ) {
      continue;
    } else {
      break;
    }
    seen = true;
    end = index + 1;
  }
  return seen ? { value: total + current, end } : undefined;
}

/** "and" or "a" belongs to a number only between number words ("a hundred", "hundred and five"). */
function continuesNumber(tokens: readonly string[], index: number, seen: boolean): boolean {
  const next = tokens
    .slice(index + 1)
    .find((token) => !/^\s+$|^-$/.test(token))
    ?.toLowerCase();
  if (next === undefined) return false;
  const word = tokens[index]?.toLowerCase();
  if (word === 'and') return seen && UNITS[next] !== undefined;
  return !seen && (next === 'hundred' || next === 'thousand' || next === 'dozen');
}
