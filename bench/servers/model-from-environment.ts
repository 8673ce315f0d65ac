/**
 * Which model a benchmark server streams from, chosen by `BENCH_MODEL`, the same for every server
 * under comparison:
 *
 * - `stamped` (default): the in-process bench model (`bench-model.ts`, `BENCH_MODEL_*` settings);
 * - `sse`: the external bench model process at `BENCH_MODEL_BASE_URL`, read over HTTP in the
 *   OpenAI Chat Completions format (`sse-model.ts`);
 * - `offline`: Parley's built-in offline model (Parley only);
 * - `tool`: a model that calls a tool taking `BENCH_TOOL_MS` of real time (Parley only).
 *
 * With `sse`, Parley itself does not use this function: `parley-server.ts` runs it with
 * `openai-compatible:bench-sse` at `BENCH_MODEL_BASE_URL`, so the benchmarks measure its real
 * provider adapter. The peers keep this bench reader.
 */
import type { LanguageModel } from '../../src/agent/model.js';
import type { ToolRegistry } from '../../src/tools/registry.js';
import { numberFromEnvironment } from '../support/ipc.js';
import { benchModelOptionsFromEnvironment, createBenchModel } from './bench-model.js';
import { createBenchToolModel, createBenchToolRegistry } from './bench-tool-model.js';
import { createSseModel } from './sse-model.js';

/** What a server is given: a model and tools, or nothing for Parley's own defaults. */
export interface BenchModelChoice {
  model?: LanguageModel;
  tools?: ToolRegistry;
}

/** The model (and tools) `BENCH_MODEL` names. */
export function benchModelFromEnvironment(): BenchModelChoice {
  const source = process.env.BENCH_MODEL ?? 'stamped';
  switch (source) {
    case 'stamped':
      return { model: createBenchModel(benchModelOptionsFromEnvironment()) };
    case 'sse': {
      const baseUrl = process.env.BENCH_MODEL_BASE_URL;
      if (baseUrl === undefined) throw new Error('BENCH_MODEL=sse needs BENCH_MODEL_BASE_URL');
      return { model: createSseModel({ baseUrl }) };
    }
    case 'offline':
      return {};
    case 'tool':
      return {
        model: createBenchToolModel(
          numberFromEnvironment('BENCH_TOOL_MS', 50),
          numberFromEnvironment('BENCH_MODEL_TOKENS', 20),
        ),
        tools: createBenchToolRegistry(),
      };
    default:
      throw new Error(`BENCH_MODEL must be stamped, sse, offline or tool; got ${source}`);
  }
}

/** The model of a comparison server (raw `ws`, Socket.IO), which has no model of its own. */
export function peerModelFromEnvironment(): LanguageModel {
  const { model } = benchModelFromEnvironment();
  if (model === undefined)
    throw new Error(`BENCH_MODEL=${process.env.BENCH_MODEL ?? ''} is Parley's own`);
  return model;
}
