/**
 * The embedded default model: rule-based, offline and deterministic, so Parley runs (and its tests
 * pass) without an API key. It implements the `parley.model.v1` contract like any remote provider.
 */
import type {
  LanguageModelV1,
  ModelCallOptions,
  ModelMessage,
  ModelRequest,
  ModelStreamPartV1,
} from './model.js';
import { decideOfflineReply } from './offline-rules.js';
import { splitIntoDeltas } from './split-into-deltas.js';

/** Options of {@link createOfflineModel}. */
export interface OfflineModelOptions {
  /**
   * The model id reported to the agent loop and in usage records.
   * @default 'parley-offline-1'
   */
  modelId?: string;
}

/**
 * Creates the offline model. Each step it either calls tools (calculator, weather, datetime,
 * search; several at once when a message asks for several things) or answers in text, one word
 * per `text-delta`, and always ends with one `finish` part. It reads the whole conversation, so
 * "multiply that by 2", "what's my name?" and "and in Tokyo?" work; what it understands and what
 * it cannot do is listed in docs/TOOLS_GUIDE.md, "The offline model". The same messages always give the same
 * parts, and it stops yielding as soon as the signal aborts. It never waits: pacing is the
 * streaming pipeline's job.
 *
 * @example
 * const model = createOfflineModel();
 * const messages = [{ role: 'user', content: 'What is 5 + 3?', userId: 'u1' }] as const;
 * for await (const part of model.stream({ messages, tools: [] }, { signal })) console.log(part);
 * // { type: 'tool-call', toolCallId: 'call_1_0', toolName: 'calculator', input: { operation: 'evaluate', expression: '5 + 3' } }
 * // { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 4, outputTokens: 1 } }
 */
export function createOfflineModel(options: OfflineModelOptions = {}): LanguageModelV1 {
  return {
    specificationVersion: 'parley.model.v1',
    provider: 'offline',
    modelId: options.modelId ?? 'parley-offline-1',
    stream: streamOfflineReply,
  };
}

// Not async in spirit (nothing is awaited), but an async generator is what the contract's
// consumers iterate, and it lets a consumer abort between any two parts.
// eslint-disable-next-line @typescript-eslint/require-await
async function* streamOfflineReply(
  request: ModelRequest,
  { signal }: ModelCallOptions,
): AsyncGenerator<ModelStreamPartV1> {
  const { messages } = request;
  const decision = decideOfflineReply(messages);
  const inputTokens = countInputTokens(messages);
  if (decision.type === 'tool-calls') {
    for (const [index, call] of decision.toolCalls.entries()) {
      if (signal.aborted) return;
      // Ids only depend on the conversation's length, so replays produce the same ids.
      yield { type: 'tool-call', toolCallId: `call_${messages.length}_${index}`, ...call };
    }
    if (signal.aborted) return;
    const usage = { inputTokens, outputTokens: decision.toolCalls.length };
    yield { type: 'finish', finishReason: 'tool-calls', usage };
    return;
  }
  const deltas = splitIntoDeltas(decision.text);
  for (const delta of deltas) {
    if (signal.aborted) return;
    yield { type: 'text-delta', delta };
  }
  if (signal.aborted) return;
  yield {
    type: 'finish',
    finishReason: 'stop',
    usage: { inputTokens, outputTokens: deltas.length },
  };
}

/** Counts the words of every message, tool call and tool output: a stable stand-in for tokens. */
function countInputTokens(messages: readonly ModelMessage[]): number {
  return messages.reduce((total, message) => total + countWords(messageText(message)), 0);
}

function messageText(message: ModelMessage): string {
  switch (message.role) {
    case 'system':
    case 'user':
      return message.content;
    case 'assistant':
      return [
        message.content,
        ...(message.toolCalls ?? []).map((call) => stringify(call.input)),
      ].join(' ');
    case 'tool':
      return stringify(message.output);
  }
}

function stringify(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value);
}

function countWords(text: string): number {
  // Runs of letters and digits ("what's" is one), so a JSON output counts its keys and values.
  return text.match(/[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu)?.length ?? 0;
}
