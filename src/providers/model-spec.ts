/**
 * The model syntax of `PARLEY_MODEL` and of an agent's `model`: `offline`, or a provider and a
 * model id such as `openai:gpt-4o-mini`.
 */

/** The providers a model spec can name. */
export const MODEL_PROVIDERS = ['openai', 'anthropic', 'openai-compatible'] as const;

/** A parsed model spec. */
export type ModelSpec =
  { provider: 'offline' } | { provider: (typeof MODEL_PROVIDERS)[number]; modelId: string };

const EXPECTED =
  'expected offline, openai:<model>, anthropic:<model> or openai-compatible:<model> (for example openai:gpt-4o-mini)';

/**
 * Parses a model spec. The model id is everything after the first `:`, so ids that contain
 * colons stay whole (`openai-compatible:llama3.2:1b` is model `llama3.2:1b`). Throws a
 * `TypeError` saying what was expected.
 *
 * @example
 * parseModelSpec('openai-compatible:llama3.2:1b'); // { provider: 'openai-compatible', modelId: 'llama3.2:1b' }
 */
export function parseModelSpec(spec: string): ModelSpec {
  const trimmed = spec.trim();
  if (trimmed === 'offline') return { provider: 'offline' };
  const colon = trimmed.indexOf(':');
  const provider = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const modelId = colon === -1 ? '' : trimmed.slice(colon + 1).trim();
  if (!isModelProvider(provider)) {
    throw new TypeError(`Unknown model provider in ${JSON.stringify(spec)}: ${EXPECTED}.`);
  }
  if (modelId === '') {
    throw new TypeError(`Model ${JSON.stringify(spec)} names no model id: ${EXPECTED}.`);
  }
  return { provider, modelId };
}

/** Whether `value` is a valid model spec. */
export function isModelSpec(value: string): boolean {
  try {
    parseModelSpec(value);
    return true;
  } catch {
    return false;
  }
}

function isModelProvider(value: string): value is (typeof MODEL_PROVIDERS)[number] {
  return (MODEL_PROVIDERS as readonly string[]).includes(value);
}
