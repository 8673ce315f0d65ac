import { describe, expect, it } from 'vitest';
import type { LanguageModel, ModelStreamPart } from './model.js';
import { createOfflineModel } from './offline-model.js';
import { isLanguageModelV2, upgradeModel } from './upgrade-model.js';

async function collect(model: LanguageModel): Promise<ModelStreamPart[]> {
  const parts: ModelStreamPart[] = [];
  const messages = [{ role: 'user', content: 'Hello', userId: 'alice' }] as const;
  for await (const part of model.stream(
    { messages, tools: [] },
    { signal: new AbortController().signal },
  )) {
    parts.push(part);
  }
  return parts;
}

describe('upgradeModel', () => {
  it('gives a v1 model a v2 identity over the same parts', async () => {
    const offline = createOfflineModel();

    const upgraded = upgradeModel(offline);

    expect(upgraded).toMatchObject({
      specificationVersion: 'parley.model.v2',
      provider: 'offline',
      modelId: 'parley-offline-1',
    });
    expect(isLanguageModelV2(upgraded)).toBe(true);
    expect(await collect(upgraded)).toEqual(await collect(offline));
  });

  it('returns a v2 model as it is', () => {
    const model = upgradeModel(createOfflineModel());
    expect(upgradeModel(model)).toBe(model);
  });

  it('refuses anything else with a TypeError', () => {
    const v3 = { specificationVersion: 'v3', provider: 'openai.chat', modelId: 'gpt-4o' };
    expect(() => upgradeModel(v3 as unknown as LanguageModel)).toThrow(
      new TypeError(
        'Unsupported model specificationVersion "v3": expected "parley.model.v1" or "parley.model.v2" (wrap an AI SDK model with fromSpecificationModel).',
      ),
    );
  });
});
