/**
 * Splits an answer into word-level text deltas, the way a real model streams tokens.
 */

// Each word carries the whitespace before it, so newlines and double spaces survive; a trailing
// run of whitespace becomes its own delta so that joining the deltas gives back the exact text.
const DELTA_PATTERN = /\s*\S+|\s+$/g;

/**
 * Splits `text` into deltas of one word each, with the whitespace that precedes the word.
 * Joining the deltas always gives back `text` exactly; an empty text gives no deltas.
 *
 * @example
 * splitIntoDeltas('5 + 3 = 8.'); // ['5', ' +', ' 3', ' =', ' 8.']
 */
export function splitIntoDeltas(text: string): string[] {
  return text.match(DELTA_PATTERN) ?? [];
}
