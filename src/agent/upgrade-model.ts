/**
 * Upgrades a `parley.model.v1` model to the `parley.model.v2` contract, so code that consumes
 * models handles one version only.
 */
import type { LanguageModel, LanguageModelV2 } from './model.js';

/**
 * Returns `model` as a `parley.model.v2` model. A v2 model is returned as it is; a v1 model gets
 * a v2 identity around the same stream, which needs no translation because every v1 part is a v2
 * part (v1 simply never yields the parts v2 added). Throws a `TypeError` for anything else.
 *
 * @example
 * const model = upgradeModel(createOfflineModel());
 * model.specificationVersion; // 'parley.model.v2'
 */
export function upgradeModel(model: LanguageModel): LanguageModelV2 {
  if (isLanguageModelV2(model)) return model;
  // Untyped callers (plain JavaScript, a JSON config) can hand over anything.
  const version: unknown = model.specificationVersion;
  if (version !== 'parley.model.v1') {
    throw new TypeError(
      `Unsupported model specificationVersion ${JSON.stringify(version)}: expected "parley.model.v1" or "parley.model.v2" (wrap an AI SDK model with fromSpecificationModel).`,
    );
  }
  return {
    specificationVersion: 'parley.model.v2',
    provider: model.provider,
    modelId: model.modelId,
    stream: (request, options) => model.stream(request, options),
  };
}

/** Whether `model` implements `parley.model.v2`. */
export function isLanguageModelV2(model: LanguageModel): model is LanguageModelV2 {
  return model.specificationVersion === 'parley.model.v2';
}
