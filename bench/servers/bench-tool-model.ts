/**
 * A model and a tool that take real (asynchronous) time, for the worker pool's bound: the model
 * first calls `bench_wait`, which waits `BENCH_TOOL_MS` on a timer, then answers in a few deltas.
 * With the offline model's synchronous tools a whole turn runs inside one event-loop turn, so a
 * sampler never sees a running turn; here every turn is seen running while its tool waits.
 */
import { setTimeout as wait } from 'node:timers/promises';
import { z } from 'zod';
import type { LanguageModel, ModelStreamPart } from '../../src/agent/model.js';
import { ToolRegistry } from '../../src/tools/registry.js';
import { defineTool } from '../../src/tools/tool.js';
import { stampedDelta, streamCounter } from './bench-model.js';

/** Tool calls in progress, counted by the tool itself: a second view of the pool's bound. */
export const toolCounter = { active: 0, maxActive: 0, calls: 0 };

const waitTool = defineTool({
  name: 'bench_wait',
  description: 'Waits the given number of milliseconds, as a remote API call would.',
  parameters: z.object({ ms: z.number().int().min(0).max(60_000) }),
  async execute({ ms }, { signal }) {
    toolCounter.active += 1;
    toolCounter.calls += 1;
    toolCounter.maxActive = Math.max(toolCounter.maxActive, toolCounter.active);
    try {
      await wait(ms, undefined, { signal });
      return { waited_ms: ms };
    } finally {
      toolCounter.active -= 1;
    }
  },
});

/** The registry with `bench_wait` only. */
export function createBenchToolRegistry(): ToolRegistry {
  return new ToolRegistry([waitTool]);
}

/**
 * The model: a `bench_wait` call on the first step, `tokens` deltas after the tool's result.
 *
 * @example
 * startServer({ model: createBenchToolModel(50, 20), tools: createBenchToolRegistry() });
 */
export function createBenchToolModel(toolMs: number, tokens: number): LanguageModel {
  return {
    specificationVersion: 'parley.model.v1',
    provider: 'bench',
    modelId: 'bench-tool-caller',
    // eslint-disable-next-line @typescript-eslint/require-await -- the contract is an async iterable
    async *stream(request): AsyncGenerator<ModelStreamPart> {
      streamCounter.active += 1;
      streamCounter.started += 1;
      streamCounter.maxActive = Math.max(streamCounter.maxActive, streamCounter.active);
      try {
        const last = request.messages.at(-1);
        if (last?.role !== 'tool') {
          yield {
            type: 'tool-call',
            toolCallId: `call_${request.messages.length}`,
            toolName: 'bench_wait',
            input: { ms: toolMs },
          };
          yield {
            type: 'finish',
            finishReason: 'tool-calls',
            usage: { inputTokens: 1, outputTokens: 1 },
          };
          return;
        }
        for (let index = 0; index < tokens; index += 1) {
          yield { type: 'text-delta', delta: stampedDelta(24) };
        }
        yield {
          type: 'finish',
          finishReason: 'stop',
          usage: { inputTokens: 1, outputTokens: tokens },
        };
      } finally {
        streamCounter.active -= 1;
      }
    },
  };
}
