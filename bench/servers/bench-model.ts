/**
 * The in-process token source every benchmark server can stream from, Parley or not: the same
 * deltas, produced the same way, so the servers differ only in what they do with them. Each delta
 * carries the instant it was produced (`@<ms>`), so a client measures the path from "the model has
 * a token" to "the participant has it".
 *
 * This model runs on the server's own event loop: when that loop is saturated, the model is late
 * too and its stamps hide the wait. Latency figures that must show a saturated loop use the
 * external model process instead (`sse-model-server.ts`, through `BENCH_MODEL=sse`).
 */
import type { LanguageModel, ModelStreamPart } from '../../src/agent/model.js';
import { preciseNow, sleep } from '../support/clock.js';
import { numberFromEnvironment } from '../support/ipc.js';

/** A whole number of tokens per packet, or a range cycled through (1, 2, 3, 1, 2, 3, …). */
export interface TokensPerTick {
  min: number;
  max: number;
}

/** How the bench model streams. */
export interface BenchModelOptions {
  /** Deltas per answer. @default 100 */
  tokens: number;
  /** Characters per delta (the stamp plus padding). @default 24 */
  deltaChars: number;
  /**
   * Deltas produced together (in one event-loop turn), as a network stream delivers several
   * tokens per packet. A range `1-3` cycles 1, 2, 3. @default 10
   */
  tokensPerTick: TokensPerTick;
  /**
   * Tokens per second of one answer, on an absolute schedule (token i is due i / rate seconds
   * after the first; a packet leaves when its last token is due). 0 streams as fast as possible,
   * one packet per event-loop turn. @default 0
   */
  tokensPerSecond: number;
  /** Delay before the first delta (time to first token). @default 0 */
  firstTokenDelayMs: number;
}

/** Streams counted across all answers, to check the worker pool's bound from the model's side. */
export const streamCounter = { active: 0, maxActive: 0, started: 0 };

/** Parses `10` or `1-3` (from `BENCH_MODEL_TOKENS_PER_TICK`). */
export function parseTokensPerTick(text: string): TokensPerTick {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  const min = Number(match?.[1]);
  const max = Number(match?.[2] ?? match?.[1]);
  if (match === null || min < 1 || max < min) {
    throw new RangeError(`tokens per tick must be N or MIN-MAX with 1 ≤ MIN ≤ MAX, got ${text}`);
  }
  return { min, max };
}

/** Reads the options from `BENCH_MODEL_*` environment variables. */
export function benchModelOptionsFromEnvironment(): BenchModelOptions {
  return {
    tokens: numberFromEnvironment('BENCH_MODEL_TOKENS', 100),
    deltaChars: numberFromEnvironment('BENCH_MODEL_DELTA_CHARS', 24),
    tokensPerTick: parseTokensPerTick(process.env.BENCH_MODEL_TOKENS_PER_TICK ?? '10'),
    tokensPerSecond: numberFromEnvironment('BENCH_MODEL_TOKENS_PER_SECOND', 0),
    firstTokenDelayMs: numberFromEnvironment('BENCH_MODEL_FIRST_TOKEN_DELAY_MS', 0),
  };
}

/** A delta stamped with the instant it is produced, padded to `chars`. */
export function stampedDelta(chars: number): string {
  return `@${preciseNow().toFixed(3)}`.padEnd(chars, '.');
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
    if (options.firstTokenDelayMs > 0) await sleep(options.firstTokenDelayMs);
    const { min, max } = options.tokensPerTick;
    const started = preciseNow();
    const interval = options.tokensPerSecond > 0 ? 1000 / options.tokensPerSecond : 0;
    for (let emitted = 0, tick = 0; emitted < options.tokens; tick += 1) {
      const size = Math.min(options.tokens - emitted, min + (tick % (max - min + 1)));
      if (interval > 0) {
        const wait = started + (emitted + size - 1) * interval - preciseNow();
        if (wait > 0) await sleep(wait);
      } else if (tick > 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (signal?.aborted === true) return;
      for (let index = 0; index < size; index += 1) yield stampedDelta(options.deltaChars);
      emitted += size;
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
