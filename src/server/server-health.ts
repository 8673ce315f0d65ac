/**
 * What the health routes report: `/health` (the process and the engine's counters), `/health/ws`
 * (whether WebSocket upgrades are taken) and `/health/ready` (Parley's readiness checks, and any
 * an application or a cluster adds).
 */
import type { ParleyConfig } from '../config.js';
import type { Engine } from '../engine.js';
import type { EventStore } from '../event-log/event-store.js';
import { Readiness, type ReadinessCheck } from './readiness.js';

/** What {@link createServerHealth} reads. */
export interface ServerHealthOptions {
  engine: Engine;
  config: ParleyConfig;
  /** The event log's store, asked for its size (`database_bytes`) when it can tell. */
  store: EventStore;
  /** Whether shutdown has begun (upgrades refused, readiness fails). */
  isShuttingDown: () => boolean;
  /** Open chat sockets, as the upgrade gate counts them against `maxConnections`. */
  openConnections: () => number;
  /** More fields of `/health` (and `/health/ws`), such as the MCP servers' states. */
  details?: () => object;
  /** More readiness checks, after Parley's own. */
  checks?: readonly ReadinessCheck[];
}

/**
 * The health reports of one server, with its readiness checks: `draining` (fails once shutdown
 * began) and `event_log` (fails while the log is degraded: a store write is failing and what
 * was appended is held, or once it is closed).
 *
 * @example
 * const { health, websocketHealth, readiness } = createServerHealth({ engine, config, ... });
 */
export function createServerHealth({
  engine,
  config,
  store,
  isShuttingDown,
  openConnections,
  details,
  checks = [],
}: ServerHealthOptions) {
  const startedAt = Date.now();
  const health = async () => {
    const log = engine.log.status();
    const bytes = await store.sizeBytes?.().catch(() => undefined);
    return {
      status: isShuttingDown() ? 'shutting_down' : log.state === 'degraded' ? 'degraded' : 'ok',
      ...(log.state === 'degraded' ? { reason: `event log: ${log.reason}` } : {}),
      uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
      ...engine.stats(),
      ...(bytes === undefined ? {} : { database_bytes: bytes }),
      ...details?.(),
    };
  };
  const accepting = () => !isShuttingDown() && openConnections() < config.maxConnections;
  // The fields of /health stay (clients read them); the status is about taking upgrades.
  const websocketHealth = async () => ({
    ...(await health()),
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
      const status = engine.log.status();
      switch (status.state) {
        case 'ok':
          return { ok: true };
        case 'degraded':
          return {
            ok: false,
            reason: `the event log cannot write (${String(status.attempts)} attempts since ${new Date(status.since).toISOString()}): ${status.reason}`,
          };
        case 'closed':
          return { ok: false, reason: 'the event log is closed' };
      }
    },
  });
  for (const check of checks) readiness.add(check);
  return { health, websocketHealth, readiness };
}
