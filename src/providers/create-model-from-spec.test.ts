import { describe, expect, it } from 'vitest';
import { createModelFromSpec } from './create-model-from-spec.js';

const KEY = 'sk-never-shown-5e3a9c';

/** The message of what `run` throws (it must throw). */
function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('createModelFromSpec', () => {
  it('returns the offline model for offline, needing no variable', () => {
    const model = createModelFromSpec('offline', {});
    expect(model).toMatchObject({ specificationVersion: 'parley.model.v1', provider: 'offline' });
  });

  it.each([
    ['openai:gpt-4o-mini', {}, { provider: 'openai.chat', modelId: 'gpt-4o-mini' }],
    [
      'openai:gpt-4o-mini',
      { PARLEY_OPENAI_API: 'responses' },
      { provider: 'openai.responses', modelId: 'gpt-4o-mini' },
    ],
    [
      'anthropic:claude-sonnet-4-5',
      {},
      { provider: 'anthropic.messages', modelId: 'claude-sonnet-4-5' },
    ],
    [
      'openai-compatible:llama3.2:1b',
      { PARLEY_MODEL_BASE_URL: 'http://127.0.0.1:11434/v1' },
      { provider: 'openai-compatible.chat', modelId: 'llama3.2:1b' },
    ],
  ])('builds %s as a parley.model.v2 model of the right API', (spec, environment, expected) => {
    const model = createModelFromSpec(spec, {
      OPENAI_API_KEY: KEY,
      ANTHROPIC_API_KEY: KEY,
      ...environment,
    });
    expect(model).toMatchObject({ specificationVersion: 'parley.model.v2', ...expected });
  });

  it.each([
    [
      'openai:gpt-4o-mini',
      {},
      'OPENAI_API_KEY is not set: PARLEY_MODEL=openai:gpt-4o-mini needs an OpenAI API key.',
    ],
    [
      'anthropic:claude-sonnet-4-5',
      { ANTHROPIC_API_KEY: '  ' },
      'ANTHROPIC_API_KEY is not set: PARLEY_MODEL=anthropic:claude-sonnet-4-5 needs an Anthropic API key.',
    ],
    [
      'openai-compatible:llama3.2:1b',
      {},
      "PARLEY_MODEL_BASE_URL is not set: PARLEY_MODEL=openai-compatible:llama3.2:1b needs the server's base URL, e.g. http://127.0.0.1:11434/v1 for Ollama or http://127.0.0.1:8000/v1 for vLLM.",
    ],
    [
      'openai:gpt-4o-mini',
      { OPENAI_API_KEY: KEY, PARLEY_OPENAI_API: 'assistants' },
      'PARLEY_OPENAI_API must be "chat" (Chat Completions) or "responses" (the Responses API), got "assistants".',
    ],
  ])(
    'refuses %s with a TypeError naming the missing or wrong variable',
    (spec, environment, message) => {
      expect(() => createModelFromSpec(spec, environment)).toThrow(new TypeError(message));
    },
  );

  it('refuses a malformed base URL without echoing it, since a URL may hold credentials', () => {
    const error = thrown(() =>
      createModelFromSpec('openai-compatible:m', { PARLEY_MODEL_BASE_URL: `${KEY}@nowhere` }),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(
      'PARLEY_MODEL_BASE_URL is not a URL: expected an http(s) base URL such as http://127.0.0.1:11434/v1.',
    );
    const ftp = thrown(() =>
      createModelFromSpec('openai:m', {
        OPENAI_API_KEY: KEY,
        OPENAI_BASE_URL: `ftp://u:${KEY}@h/`,
      }),
    );
    expect(ftp.message).toBe('OPENAI_BASE_URL must be an http: or https: URL, got a ftp: one.');
  });

  it('never puts a key in an error message', () => {
    const messages = [
      thrown(() => createModelFromSpec('openai:gpt-4o-mini', { ANTHROPIC_API_KEY: KEY })),
      thrown(() => createModelFromSpec('anthropic:claude', { OPENAI_API_KEY: KEY })),
      thrown(() =>
        createModelFromSpec('openai:m', { OPENAI_API_KEY: KEY, PARLEY_OPENAI_API: 'x' }),
      ),
      thrown(() => createModelFromSpec('openai-compatible:m', { PARLEY_MODEL_API_KEY: KEY })),
    ].map((error) => error.message);
    expect(messages.filter((message) => message.includes(KEY))).toEqual([]);
  });

  it('reads only the environment it is given, not process.env', () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = KEY;
    try {
      expect(() => createModelFromSpec('openai:gpt-4o-mini', {})).toThrow(
        /OPENAI_API_KEY is not set/,
      );
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });
});
