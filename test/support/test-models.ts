/**
 * Scripted models for integration tests: they speak the real model contract, so the engine
 * cannot tell them from a provider.
 */
import type { LanguageModel, ModelMessage, ModelStreamPart } from '../../src/agent/model.js';

const usage = { inputTokens: 1, outputTokens: 1 };

/** A model whose answers wait at a gate the test opens; it counts concurrent streams. */
export function createGatedModel() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const state = { active: 0, maxActive: 0, started: 0 };
  const startWaiters: { count: number; resolve: () => void }[] = [];
  const model: LanguageModel = {
    specificationVersion: 'parley.model.v1',
    provider: 'test',
    modelId: 'gated',
    async *stream(_request, { signal }) {
      state.active += 1;
      state.started += 1;
      state.maxActive = Math.max(state.maxActive, state.active);
      for (const waiter of startWaiters.filter((w) => state.started >= w.count)) waiter.resolve();
      try {
        await Promise.race([gate, aborted(signal)]);
        yield { type: 'text-delta', delta: 'done' } satisfies ModelStreamPart;
        yield { type: 'finish', finishReason: 'stop', usage } satisfies ModelStreamPart;
      } finally {
        state.active -= 1;
      }
    },
  };
  return {
    model,
    state,
    open: () => {
      open();
    },
    /** Resolves once `count` streams have started. */
    started: (count: number) =>
      state.started >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => startWaiters.push({ count, resolve })),
  };
}

/**
 * A model that calls `toolName` with `input` on the user's message, then answers with a text
 * describing the tool result it got.
 */
export function createToolCallingModel(toolName: string, input: unknown): LanguageModel {
  return {
    specificationVersion: 'parley.model.v1',
    provider: 'test',
    modelId: 'tool-caller',
    async *stream({ messages }) {
      await Promise.resolve();
      const last = messages.at(-1) as ModelMessage;
      if (last.role === 'tool') {
        yield { type: 'text-delta', delta: `tool said ${JSON.stringify(last.output)}` };
        yield { type: 'finish', finishReason: 'stop', usage };
        return;
      }
      yield { type: 'tool-call', toolCallId: `call_${messages.length}`, toolName, input };
      yield { type: 'finish', finishReason: 'tool-calls', usage };
    },
  };
}

/** A model that streams `count` deltas of `size` characters as fast as it can. */
export function createFirehoseModel(count: number, size: number): LanguageModel {
  const delta = 'x'.repeat(size);
  return {
    specificationVersion: 'parley.model.v1',
    provider: 'test',
    modelId: 'firehose',
    async *stream(_request, { signal }) {
      for (let index = 0; index < count && !signal.aborted; index += 1) {
        // Yield to the event loop now and then, as a network stream would.
        if (index % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        yield { type: 'text-delta', delta };
      }
      yield { type: 'finish', finishReason: 'stop', usage };
    },
  };
}

/** What a scripted model answers to one user message. */
export interface ScriptedAnswer {
  text: string;
  /** Stream the first `after` characters, then wait for `gate` before the rest. */
  pause?: { after: number; gate: Promise<void> };
}

/**
 * A model that answers each user message with the text `respond` gives for it, streamed in
 * pieces of `chunkSize` characters (and optionally paused half-way until a gate opens).
 */
export function createScriptedModel(
  respond: (userText: string) => ScriptedAnswer | string,
  { chunkSize = 8 } = {},
): LanguageModel {
  return {
    specificationVersion: 'parley.model.v1',
    provider: 'test',
    modelId: 'scripted',
    async *stream({ messages }, { signal }) {
      const last = messages.findLast((message) => message.role === 'user');
      const given = respond(last?.content ?? '');
      const { text, pause } = typeof given === 'string' ? { text: given, pause: undefined } : given;
      for (let at = 0; at < text.length && !signal.aborted; at += chunkSize) {
        if (pause !== undefined && at >= pause.after && at - chunkSize < pause.after) {
          const stopped = await Promise.race([
            pause.gate.then(() => false),
            aborted(signal).then(() => true),
          ]);
          if (stopped) break;
        }
        yield {
          type: 'text-delta',
          delta: text.slice(at, at + chunkSize),
        } satisfies ModelStreamPart;
      }
      yield { type: 'finish', finishReason: 'stop', usage } satisfies ModelStreamPart;
    },
  };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => {
      resolve();
    });
  });
}
