/**
 * Parley as a benchmark server: the real `startServer` (upgrade gate, actors, worker pool,
 * pacing, fan-out, event log) configured from `PARLEY_*` variables, with the model `BENCH_MODEL`
 * names (see `model-from-environment.ts`).
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { startServer } from '../../src/server/server.js';
import { streamCounter } from './bench-model.js';
import { toolCounter } from './bench-tool-model.js';
import { benchModelFromEnvironment } from './model-from-environment.js';
import { serveControl } from './server-control.js';

// Issue 12's seam: with the external model, Parley reads it through its real provider adapter
// (`openai-compatible:`, the AI SDK package, retries and deadlines included); the peers keep the
// bench reader.
const throughProvider = process.env.BENCH_MODEL === 'sse';
const baseUrl = process.env.BENCH_MODEL_BASE_URL;
const { model, tools } = throughProvider ? {} : benchModelFromEnvironment();
const server = await startServer({
  config: {
    port: 0,
    ...(throughProvider && baseUrl !== undefined
      ? { defaultModel: 'openai-compatible:bench-sse', modelBaseUrl: baseUrl }
      : {}),
  },
  ...(model === undefined ? {} : { model }),
  ...(tools === undefined ? {} : { tools }),
});

// Event-loop delay since the last stats read: tells a blocked loop apart from a long path.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const ms = (nanoseconds: number) => Math.round(nanoseconds / 1e4) / 100;
// Garbage-collection pauses since the last stats read.
const gc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count += 1;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });

serveControl(server.port, {
  stats: () => {
    const stats = {
      ...server.engine.stats(),
      model: { ...streamCounter },
      tools: { ...toolCounter },
      loop: {
        p50: ms(loopDelay.percentile(50)),
        p99: ms(loopDelay.percentile(99)),
        max: ms(loopDelay.max),
      },
      gc: {
        count: gc.count,
        totalMs: Math.round(gc.totalMs),
        maxMs: Math.round(gc.maxMs * 100) / 100,
      },
    };
    Object.assign(gc, { count: 0, totalMs: 0, maxMs: 0 });
    // Each read starts a new window for the high-water mark of concurrent model streams.
    streamCounter.maxActive = streamCounter.active;
    toolCounter.maxActive = toolCounter.active;
    loopDelay.reset();
    return stats;
  },
  close: () => server.close(),
});
