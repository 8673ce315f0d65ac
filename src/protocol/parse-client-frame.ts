import type { z } from 'zod';
import { ParleyError, type FrameIssue } from '../errors.js';
import { clientFrameSchema, type ClientFrame } from './frames.js';

/** The outcome of {@link parseClientFrame}. */
export type ParseResult = { ok: true; frame: ClientFrame } | { ok: false; error: ParleyError };

const CLIENT_TYPES = clientFrameSchema.options.map((option) => option.shape.type.value);

/**
 * Parses one text frame from a client: JSON first (`invalid_json`), then the frame schema
 * (`invalid_frame`, with each failing field's path and what was expected).
 *
 * @example
 * const result = parseClientFrame('{"type":"user_message","content":"hi"}');
 * if (result.ok) handle(result.frame);
 */
export function parseClientFrame(text: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    return {
      ok: false,
      error: new ParleyError('invalid_json', 'Frame is not valid JSON.', { cause }),
    };
  }
  const parsed = clientFrameSchema.safeParse(json);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const issues = parsed.error.issues.map(toFrameIssue);
  const summary = issues.map((issue) => `${issue.path || '(frame)'}: ${issue.message}`).join('; ');
  return {
    ok: false,
    error: new ParleyError('invalid_frame', `Invalid frame: ${summary}`, { issues }),
  };
}

function toFrameIssue(issue: z.core.$ZodIssue): FrameIssue {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'invalid_union' && path === 'type') {
    return {
      path,
      message: `expected one of ${CLIENT_TYPES.join(', ')}`,
      expected: CLIENT_TYPES.join(' | '),
    };
  }
  const result: FrameIssue = { path, message: issue.message };
  if (issue.code === 'invalid_type') result.expected = issue.expected;
  if (issue.code === 'invalid_value') result.expected = issue.values.map(String).join(' | ');
  if (issue.code === 'too_big') result.expected = `at most ${String(issue.maximum)}`;
  if (issue.code === 'too_small') result.expected = `at least ${String(issue.minimum)}`;
  return result;
}
