/**
 * `GET /health`'s body, and the timer that expires idle conversations (`PARLEY_LOG_MAX_AGE`):
 * the server's view of its event log.
 */
import type { ParleyConfig } from '../config.js';
import type { Engine } from '../engine.js';
import type { EventStore } from '../event-log/event-store.js';
import type { Logger } from '../logger.js';

/**
 * Builds the health report: `ok`, `degraded` (with the reason, while the event log cannot be
 * written) or `shutting_down`, the engine's counters and the log's size on disk when the store
 * knows it.
 *
 * @example
 * const health = healthReport({ engine, store, startedAt: Date.now(), shuttingDown: () => false });
 * sendJson(response, 200, await health());
 */
export function healthReport(options: {
  engine: Engine;
  store: EventStore;
  startedAt: number;
  shuttingDown: () => boolean;
  /** More of the report (the MCP servers' states, the cluster's). */
  extra?: () => Record<string, unknown>;
}): () => Promise<Record<string, unknown>> {
  const { engine, store, startedAt, shuttingDown, extra } = options;
  return async () => {
    const log = engine.log.status();
    const bytes = await store.sizeBytes?.().catch(() => undefined);
    return {
      status: shuttingDown() ? 'shutting_down' : log.state === 'degraded' ? 'degraded' : 'ok',
      ...(log.state === 'degraded' ? { reason: `event log: ${log.reason}` } : {}),
      uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
      ...engine.stats(),
      ...(bytes === undefined ? {} : { database_bytes: bytes }),
      ...extra?.(),
    };
  };
}

/**
 * Starts the `PARLEY_LOG_MAX_AGE` timer: whole idle conversations leave the log, checked a few
 * times per max age (at least once a second, at most once a minute). Unreferenced: it never keeps
 * the process alive. Returns the function that stops it; nothing runs when the age is 0.
 *
 * @example
 * const stopExpiry = startExpiry(config, engine, logger);
 */
export function startExpiry(config: ParleyConfig, engine: Engine, logger: Logger): () => void {
  const maxAge = config.logMaxAgeMs;
  if (maxAge === 0) return () => undefined;
  const timer = setInterval(
    () => {
      engine.expireIdleConversations(maxAge).then(
        (removed) => {
          if (removed.length > 0) {
            logger.info({ conversations: removed.length }, 'idle conversations removed');
          }
        },
        (error: unknown) => {
          logger.warn(
            { error: error instanceof Error ? error.message : String(error) },
            'idle conversations could not be removed',
          );
        },
      );
    },
    Math.max(1000, Math.min(60_000, Math.floor(maxAge / 4))),
  );
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}
