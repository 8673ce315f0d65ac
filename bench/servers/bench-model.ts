/**
 * The token source every benchmark server streams from, Parley or not: the same deltas, produced
 * the same way, so the servers differ only in what they do with them. Each delta carries the
 * instant it was produced (`@<ms>`), so a client measures the whole path from "the model has a
 * token" to "the participant has it", Parley's pipeline included.
 */
import type { LanguageModel, ModelStreamPart } from '../../src/agent/model.js';
import { preciseNow } from '../support/clock.js';
import { numberFromEnvironment } from '../support/ipc.js';

/** How the bench model streams. */
export interface BenchModelOptions {
  /** Deltas per answer. @default 100 */
  tokens: number;
  /** Characters per delta (the stamp plus padding). @default 24 */
  deltaChars: number;
  /**
   * Deltas produced per event-loop turn when `intervalMs` is 0, as a network stream delivers
   * several tokens per packet. @default 10
   */
  tokensPerTick: number;
  /** Delay before each delta (a paced model); 0 streams as fast as possible. @default 0 */
  intervalMs: number;
  /** Delay before the first delta (time to first token). @default 0 */
  firstTokenDelayMs: number;
}

/** Streams counted across all answers, to check the worker pool's bound from the model's side. */
export const streamCounter = { active: 0, maxActive: 0, started: 0 };

/** Reads the options from `BENCH_MODEL_*` environment variables. */
export function benchModelOptionsFromEnvironment(): BenchModelOptions {
  return {
    tokens: numberFromEnvironment('BENCH_MODEL_TOKENS', 100),
    deltaChars: numberFromEnvironment('BENCH_MODEL_DELTA_CHARS', 24),
    tokensPerTick: numberFromEnvironment('BENCH_MODEL_TOKENS_PER_TICK', 10),
    intervalMs: numberFromEnvironment('BENCH_MODEL_INTERVAL_MS', 0),
    firstTokenDelayMs: numberFromEnvironment('BENCH_MODEL_FIRST_TOKEN_DELAY_MS', 0),
  };
}

/**
 * The deltas of one answer, each stamped when produced. Stops early when `signal` aborts.
 *
 * @example
 * for await (const delta of streamDeltas(options, signal)) broadcast(delta);
 */
export async function* streamDeltas(
  options: BenchModelOptions,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  streamCounter.active += 1;
  streamCounter.started += 1;
  streamCounter.maxActive = Math.max(streamCounter.maxActive, streamCounter.active);
  try {
    if (options.firstTokenDelayMs > 0) await wait(options.firstTokenDelayMs);
    for (let index = 0; index < options.tokens; index += 1) {
      if (signal?.aborted === true) return;
      if (options.intervalMs > 0) {
        if (index > 0) await wait(options.intervalMs);
      } else if (index > 0 && index % options.tokensPerTick === 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      yield `@${preciseNow().toFixed(3)}`.padEnd(options.deltaChars, '.');
    }
  } finally {
    streamCounter.active -= 1;
  }
}

/**
 * The same stream behind Parley's model contract (`parley.model.v1`): text deltas, then `finish`.
 *
 * @example
 * await startServer({ model: createBenchModel(benchModelOptionsFromEnvironment()) });
 */
export function createBenchModel(options: BenchModelOptions): LanguageModel {
  return {
    specificationVersion: 'parley.model.v1',
    provider: 'bench',
    modelId: 'bench-stamped-deltas',
    async *stream(_request, { signal }): AsyncGenerator<ModelStreamPart> {
      let count = 0;
      for await (const delta of streamDeltas(options, signal)) {
        count += 1;
        yield { type: 'text-delta', delta };
      }
      yield {
        type: 'finish',
        finishReason: 'stop',
        usage: { inputTokens: 1, outputTokens: count },
      };
    },
  };
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
