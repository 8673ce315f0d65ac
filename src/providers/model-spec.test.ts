import { describe, expect, it } from 'vitest';
import { isModelSpec, parseModelSpec } from './model-spec.js';

describe('parseModelSpec', () => {
  it.each([
    ['offline', { provider: 'offline' }],
    ['openai:gpt-4o-mini', { provider: 'openai', modelId: 'gpt-4o-mini' }],
    ['anthropic:claude-sonnet-4-5', { provider: 'anthropic', modelId: 'claude-sonnet-4-5' }],
    ['openai-compatible:llama3.2:1b', { provider: 'openai-compatible', modelId: 'llama3.2:1b' }],
    [
      'openai-compatible:hf.co/org/model:Q4_K_M',
      { provider: 'openai-compatible', modelId: 'hf.co/org/model:Q4_K_M' },
    ],
    ['  openai:gpt-4o  ', { provider: 'openai', modelId: 'gpt-4o' }],
  ])('reads %s, the model id being everything after the first colon', (spec, expected) => {
    expect(parseModelSpec(spec)).toEqual(expected);
  });

  it('rejects an unknown provider with a TypeError saying what is expected', () => {
    expect(() => parseModelSpec('ollama:llama3.2')).toThrow(
      new TypeError(
        'Unknown model provider in "ollama:llama3.2": expected offline, openai:<model>, anthropic:<model> or openai-compatible:<model> (for example openai:gpt-4o-mini).',
      ),
    );
  });

  it.each(['openai', 'openai:', 'anthropic:  '])('rejects %j, which names no model id', (spec) => {
    expect(() => parseModelSpec(spec)).toThrow(TypeError);
    expect(() => parseModelSpec(spec)).toThrow(/names no model id/);
  });

  it('tells valid specs from invalid ones', () => {
    expect(isModelSpec('openai-compatible:qwen2.5:7b')).toBe(true);
    expect(isModelSpec('gpt-4o')).toBe(false);
  });
});
