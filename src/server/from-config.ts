/**
 * What the server builds from its configuration alone: the event store and the inspector's hub
 * and forwarder. The inspector's modules load only when it is on, so a server with it off (the
 * production default) does not carry their code.
 */
import { isPostgresUrl, type ParleyConfig } from '../config.js';
import type { EventStore } from '../event-log/event-store.js';
import { MemoryEventStore } from '../event-log/memory-store.js';
import { SqliteEventStore } from '../event-log/sqlite-store.js';
import { WorkerSqliteEventStore } from '../event-log/worker-sqlite-store.js';
import type { InspectionHub } from '../inspector/inspection-hub.js';
import type { Logger } from '../logger.js';

/**
 * The event store `PARLEY_DB` names: memory, or the SQLite file, written from the server's thread
 * (with its WAL checkpoints where `PARLEY_LOG_CHECKPOINTS` says) or, with
 * `PARLEY_LOG_THREAD=worker`, a worker's.
 *
 * @example
 * const store = await openEventStore(loadConfig(), logger);
 */
export async function openEventStore(
  config: ParleyConfig,
  logger?: Logger,
  { cluster = false }: { cluster?: boolean } = {},
): Promise<EventStore> {
  if (isPostgresUrl(config.database)) {
    const { PostgresEventStore } = await import('../event-log/postgres-store.js');
    const { ClusterStore } = await import('../cluster/cluster-store.js');
    const inner = await PostgresEventStore.open(config.database, {
      schema: config.databaseSchema,
      ...(config.logRetention === 0 ? {} : { retentionPerConversation: config.logRetention }),
      requireFence: cluster,
      onConnectionError: (error) => logger?.warn({ error: error.message }, 'event log connection'),
    });
    return new ClusterStore(inner, {
      onAvailability: (available, error) => {
        if (available) logger?.info('event log: PostgreSQL answers again');
        else logger?.warn({ error: error?.message }, 'event log: PostgreSQL unavailable, retrying');
      },
    });
  }
  if (config.database === 'memory') {
    return new MemoryEventStore({
      maxEntriesPerConversation: config.logRetention || 1_000_000_000,
    });
  }
  const options =
    config.logRetention === 0 ? {} : { retentionPerConversation: config.logRetention };
  if (config.logThread === 'worker') return WorkerSqliteEventStore.open(config.database, options);
  return SqliteEventStore.open(config.database, {
    ...options,
    checkpoints: config.logCheckpoints,
    onCheckpointFailure: (error) => logger?.warn({ error: error.message }, 'event log checkpoints'),
  });
}

/** The inspector's hub when it is on. */
export async function createInspectionHub(
  config: ParleyConfig,
): Promise<InspectionHub | undefined> {
  if (!config.inspector) return undefined;
  const { InspectionHub } = await import('../inspector/inspection-hub.js');
  return new InspectionHub({ now: Date.now, limits: inspectionLimits(config) });
}

/** The forwarder to Stately's inspector when `PARLEY_INSPECTOR_FORWARD` names one. */
export async function createForwarder(config: ParleyConfig) {
  const target = config.inspectorForward;
  if (target === undefined) return undefined;
  const { forwardToStately } = await import('../inspector/forward-to-stately.js');
  return forwardToStately(target, inspectionLimits(config));
}

function inspectionLimits(config: ParleyConfig) {
  return { maxString: config.inspectorMaxString, maxArray: config.inspectorMaxArray, maxDepth: 6 };
}
