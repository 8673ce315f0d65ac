/**
 * Tool output hygiene (OWASP LLM01, prompt injection; LLM10, unbounded consumption): what a tool
 * returned goes to the model with invisible and control characters removed, cut at a size.
 * Participants still see the tool's own result in `tool_result`; only the model's copy is cleaned.
 */

/**
 * Characters removed from every string of a tool's output: C0 and C1 controls except tab and
 * newline, zero-width and word-joiner characters, bidirectional controls (which can reorder
 * what a reviewer reads), the byte order mark, interlinear annotations and the Unicode tag block
 * (used to hide instructions in otherwise invisible text).
 */
const INVISIBLE =
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF\uFFF9-\uFFFB]|\uDB40[\uDC00-\uDC7F]/g;

/** The default of `PARLEY_TOOL_RESULT_MAX_CHARS`. */
export const DEFAULT_TOOL_RESULT_MAX_CHARS = 16_000;

/**
 * A tool's output as the model gets it: every string cleaned of invisible and control
 * characters; when its JSON is longer than `maxChars`, the first `maxChars` characters of that
 * JSON followed by a note of how much was cut (a string, since the cut JSON no longer parses).
 *
 * @example
 * toolOutputForModel({ text: 'a\u200Bb' }, 16_000); // { text: 'ab' }
 * toolOutputForModel('x'.repeat(20), 10); // '"xxxxxxxxx … [cut: 12 more characters]'
 */
export function toolOutputForModel(output: unknown, maxChars: number): unknown {
  const clean = cleanStrings(output, 0);
  const json = JSON.stringify(clean) as string | undefined;
  if (json === undefined || json.length <= maxChars) return clean;
  return `${json.slice(0, maxChars)} … [cut: ${json.length - maxChars} more characters]`;
}

/** Deep enough for any real tool result; deeper values are left as they are. */
const MAX_DEPTH = 64;

function cleanStrings(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.replace(INVISIBLE, '');
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => cleanStrings(item, depth + 1));
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    result[key.replace(INVISIBLE, '')] = cleanStrings(item, depth + 1);
  }
  return result;
}
