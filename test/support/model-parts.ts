/**
 * Helpers for tests that drive a model directly: collect its parts, describe its errors.
 */
import type {
  LanguageModel,
  ModelRequest,
  ModelStreamPart,
  ModelToolDescription,
} from '../../src/agent/model.js';
import { ParleyError } from '../../src/errors.js';

/** A part as tests compare it: an error part shows its code and message. */
export type ComparablePart =
  Exclude<ModelStreamPart, { type: 'error' }> | { type: 'error'; code: string; message: string };

/** Streams one model call to its end and returns its parts. */
export async function collectParts(
  model: LanguageModel,
  request: ModelRequest,
  signal: AbortSignal = new AbortController().signal,
): Promise<ComparablePart[]> {
  const parts: ComparablePart[] = [];
  for await (const part of model.stream(request, { signal })) parts.push(comparable(part));
  return parts;
}

/** A part as tests compare it. */
export function comparable(part: ModelStreamPart): ComparablePart {
  if (part.type !== 'error') return part;
  const error = part.error;
  return error instanceof ParleyError
    ? { type: 'error', code: error.code, message: error.message }
    : { type: 'error', code: 'not a ParleyError', message: String(error) };
}

/** The text of a call's text deltas, joined. */
export function textOf(parts: readonly ComparablePart[]): string {
  return parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');
}

/** The weather tool as a model is told of it, for tests that send a model a tool. */
export const WEATHER_TOOL: ModelToolDescription = {
  name: 'weather',
  description: 'Current weather for a city.',
  inputSchema: {
    type: 'object',
    properties: { location: { type: 'string', description: 'City name, e.g. Paris' } },
    required: ['location'],
    additionalProperties: false,
  },
};
