/**
 * `/health/ready`'s `cluster` check, registered in cluster mode: an instance that cannot reach
 * Redis (routing, leases) or PostgreSQL (the shared event log) cannot serve its conversations.
 */
import type { ClusterStatus } from '../cluster/cluster-node.js';
import type { ReadinessCheck } from './readiness.js';

/** The part of a cluster node the check reads: its last view of Redis and PostgreSQL. */
export interface ClusterHealthSource {
  status(): Pick<ClusterStatus, 'redis' | 'postgres'>;
}

/**
 * The `cluster` readiness check: passes while Redis and PostgreSQL both answer this instance,
 * otherwise fails naming each that does not, with its error.
 *
 * @example
 * readiness.add(clusterReadiness(clusterNode));
 * // { ok: false, reason: 'Redis: connect ECONNREFUSED 127.0.0.1:6379' }
 */
export function clusterReadiness(node: ClusterHealthSource): ReadinessCheck {
  return {
    name: 'cluster',
    check: () => {
      const { redis, postgres } = node.status();
      if (redis.ok && postgres.ok) return { ok: true };
      const down = [
        ...(redis.ok ? [] : [`Redis: ${redis.error ?? 'unreachable'}`]),
        ...(postgres.ok ? [] : [`PostgreSQL: ${postgres.error ?? 'unreachable'}`]),
      ];
      return { ok: false, reason: down.join('; ') };
    },
  };
}
