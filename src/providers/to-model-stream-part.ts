/**
 * One AI SDK specification stream part (V3 or V4) as a `parley.model.v2` part.
 */
import type { ModelFinishReason, ModelStreamPart, ModelUsage } from '../agent/model.js';
import type { SpecificationStreamPart } from './specification-model.js';

type SpecificationUsage = Extract<SpecificationStreamPart, { type: 'finish' }>['usage'];

/**
 * Maps a specification part to Parley's, or to `undefined` for parts Parley has no use for:
 * block boundaries (`text-start`, `text-end`, `reasoning-start`, `reasoning-end`), `stream-start`
 * (warnings), `raw`, `ping`, sources, files, `custom`, and anything the provider executed itself
 * (its tool calls, results and approvals: Parley runs its own tools). A tool call's JSON input is
 * parsed; input that is not JSON is passed on as its text, for the tool's schema to reject.
 *
 * @example
 * toModelStreamPart({ type: 'text-delta', id: '0', delta: 'Hi' }); // { type: 'text-delta', delta: 'Hi' }
 */
export function toModelStreamPart(part: SpecificationStreamPart): ModelStreamPart | undefined {
  switch (part.type) {
    case 'text-delta':
      return { type: 'text-delta', delta: part.delta };
    case 'reasoning-delta':
      return { type: 'reasoning-delta', delta: part.delta };
    case 'tool-input-start':
      return part.providerExecuted === true
        ? undefined
        : { type: 'tool-input-start', toolCallId: part.id, toolName: part.toolName };
    case 'tool-input-delta':
      return { type: 'tool-input-delta', toolCallId: part.id, delta: part.delta };
    case 'tool-input-end':
      return { type: 'tool-input-end', toolCallId: part.id };
    case 'tool-call':
      return part.providerExecuted === true
        ? undefined
        : {
            type: 'tool-call',
            toolCallId: part.toolCallId,
            toolName: part.toolName,
            input: parseToolInput(part.input),
          };
    case 'response-metadata':
      return {
        type: 'response-metadata',
        ...(part.id === undefined ? {} : { responseId: part.id }),
        ...(part.modelId === undefined ? {} : { modelId: part.modelId }),
      };
    case 'finish':
      return {
        type: 'finish',
        finishReason: toFinishReason(part.finishReason.unified),
        ...(part.finishReason.raw === undefined ? {} : { rawFinishReason: part.finishReason.raw }),
        usage: toModelUsage(part.usage),
      };
    case 'error':
      return { type: 'error', error: part.error };
    case 'text-start':
    case 'text-end':
    case 'reasoning-start':
    case 'reasoning-end':
    case 'stream-start':
    case 'raw':
    case 'ping':
    case 'source':
    case 'file':
    case 'reasoning-file':
    case 'custom':
    case 'tool-result':
    case 'tool-approval-request':
      return undefined;
  }
}

/** Token counts as Parley keeps them: totals (0 when unknown), cached and reasoning when known. */
export function toModelUsage(usage: SpecificationUsage): ModelUsage {
  const cached = usage.inputTokens.cacheRead;
  const reasoning = usage.outputTokens.reasoning;
  return {
    inputTokens: usage.inputTokens.total ?? 0,
    outputTokens: usage.outputTokens.total ?? 0,
    ...(cached === undefined ? {} : { cachedInputTokens: cached }),
    ...(reasoning === undefined ? {} : { reasoningTokens: reasoning }),
  };
}

function toFinishReason(
  unified: Extract<SpecificationStreamPart, { type: 'finish' }>['finishReason']['unified'],
): ModelFinishReason {
  // V4's `interrupted` (the provider stopped the answer on its own) has no v2 equivalent; the
  // raw reason says which it was.
  return unified === 'interrupted' ? 'other' : unified;
}

function parseToolInput(input: string): unknown {
  // A tool without parameters may come with no input at all.
  if (input.trim() === '') return {};
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}
