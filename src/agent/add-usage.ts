import type { ModelUsage } from './model.js';

/**
 * Adds two usage records; a cached or reasoning count is kept when either side reports it.
 *
 * @example
 * addUsage({ inputTokens: 1, outputTokens: 2 }, { inputTokens: 3, outputTokens: 4, cachedInputTokens: 1 });
 */
export function addUsage(left: ModelUsage, right: ModelUsage): ModelUsage {
  const cachedInputTokens = addOptional(left.cachedInputTokens, right.cachedInputTokens);
  const reasoningTokens = addOptional(left.reasoningTokens, right.reasoningTokens);
  return {
    inputTokens: left.inputTokens + right.inputTokens,
    outputTokens: left.outputTokens + right.outputTokens,
    ...(cachedInputTokens === undefined ? {} : { cachedInputTokens }),
    ...(reasoningTokens === undefined ? {} : { reasoningTokens }),
  };
}

function addOptional(left: number | undefined, right: number | undefined): number | undefined {
  return left === undefined && right === undefined ? undefined : (left ?? 0) + (right ?? 0);
}
