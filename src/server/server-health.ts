/**
 * What the health routes report: `/health` (the process and the engine's counters), `/health/ws`
 * (whether WebSocket upgrades are taken) and `/health/ready` (Parley's readiness checks, and any
 * an application or a cluster adds).
 */
import type { ParleyConfig } from '../config.js';
import type { Engine } from '../engine.js';
import { Readiness, type ReadinessCheck } from './readiness.js';

/** What {@link createServerHealth} reads. */
export interface ServerHealthOptions {
  engine: Engine;
  config: ParleyConfig;
  /** Whether shutdown has begun (upgrades refused, readiness fails). */
  isShuttingDown: () => boolean;
  /** Open chat sockets, as the upgrade gate counts them against `maxConnections`. */
  openConnections: () => number;
  /** More readiness checks, after Parley's own. */
  checks?: readonly ReadinessCheck[];
}

/**
 * The health reports of one server, with its readiness checks: `draining` (fails once shutdown
 * began) and `event_log` (fails while the store gives up batches; a fuller check of the log's
 * own status may replace it by name).
 *
 * @example
 * const { health, websocketHealth, readiness } = createServerHealth({ engine, config, ... });
 */
export function createServerHealth({
  engine,
  config,
  isShuttingDown,
  openConnections,
  checks = [],
}: ServerHealthOptions) {
  const startedAt = Date.now();
  const health = () => ({
    status: isShuttingDown() ? 'shutting_down' : 'ok',
    uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
    ...engine.stats(),
  });
  const accepting = () => !isShuttingDown() && openConnections() < config.maxConnections;
  // The fields of /health stay (clients read them); the status is about taking upgrades.
  const websocketHealth = () => ({
    ...health(),
    status: isShuttingDown() ? 'shutting_down' : accepting() ? 'ok' : 'full',
    accepting_connections: accepting(),
    max_connections: config.maxConnections,
  });
  const readiness = new Readiness();
  readiness.add({
    name: 'draining',
    check: () =>
      isShuttingDown() ? { ok: false, reason: 'the server is shutting down' } : { ok: true },
  });
  readiness.add({
    name: 'event_log',
    check: () => {
      const failure = engine.metrics.logFailure;
      return failure === undefined
        ? { ok: true }
        : { ok: false, reason: `the last event log batch could not be written (${failure})` };
    },
  });
  for (const check of checks) readiness.add(check);
  return { health, websocketHealth, readiness };
}
