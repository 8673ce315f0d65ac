/**
 * Parley as a benchmark server: the real `startServer` (upgrade gate, actors, worker pool,
 * pacing, fan-out) configured from `PARLEY_*` variables, with the bench model, or the offline
 * model when `BENCH_MODEL=offline`.
 */
import { startServer } from '../../src/server/server.js';
import {
  benchModelOptionsFromEnvironment,
  createBenchModel,
  streamCounter,
} from './bench-model.js';
import { serveControl } from './server-control.js';

const offline = process.env.BENCH_MODEL === 'offline';
const server = await startServer({
  port: 0,
  ...(offline ? {} : { model: createBenchModel(benchModelOptionsFromEnvironment()) }),
});

serveControl(server.port, {
  stats: () => {
    const stats = { ...server.engine.stats(), model: { ...streamCounter } };
    // Each read starts a new window for the high-water mark of concurrent model streams.
    streamCounter.maxActive = streamCounter.active;
    return stats;
  },
  close: () => server.close(),
});
