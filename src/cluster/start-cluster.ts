/**
 * Builds cluster mode from the configuration: the Redis connection and the {@link ClusterNode}
 * over the PostgreSQL store. Loaded only when `PARLEY_REDIS_URL` is set.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ParleyConfig } from '../config.js';
import type { EventStore } from '../event-log/event-store.js';
import type { Logger } from '../logger.js';
import { ClusterNode } from './cluster-node.js';
import { ClusterStore } from './cluster-store.js';

/** The running cluster side of a server, and how to end it. */
export interface ClusterRuntime {
  node: ClusterNode;
  /** Closes the Redis connection (after {@link ClusterNode.close}). */
  disconnect(): void;
}

/**
 * Connects to `config.redisUrl` and makes this instance's node.
 *
 * @example
 * const cluster = createCluster(config, store, logger);
 */
export function createCluster(
  config: ParleyConfig,
  store: EventStore,
  logger: Logger,
): ClusterRuntime {
  if (config.redisUrl === undefined) throw new Error('createCluster needs config.redisUrl.');
  if (!(store instanceof ClusterStore)) {
    throw new TypeError(
      'Cluster mode (PARLEY_REDIS_URL) needs the PostgreSQL event log that PARLEY_DB=postgres://… opens; a store given in code cannot be fenced.',
    );
  }
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  // ioredis reconnects by itself; its errors are reported through the node's status.
  redis.on('error', () => undefined);
  const instanceId =
    config.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const node = new ClusterNode({
    redis,
    store,
    instanceId,
    leaseMs: config.leaseMs,
    keyPrefix: config.redisPrefix,
    log: (level, fields, message) => {
      logger[level]({ instance_id: instanceId, ...fields }, message);
    },
  });
  return {
    node,
    disconnect: () => {
      redis.disconnect();
    },
  };
}
