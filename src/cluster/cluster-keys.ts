/**
 * The Redis key names of cluster mode, in one place. Every key of one conversation carries the
 * conversation id as a hash tag (`{…}`), so that the lease script, which touches the lease and the
 * epoch counter together, also runs on a Redis Cluster.
 */

/** The key names under one prefix. */
export interface ClusterKeys {
  readonly prefix: string;
  /** The ownership lease: `<epoch>:<instance id>` of its holder, with a TTL. */
  lease(conversationId: string): string;
  /** The conversation's fencing epoch counter (no TTL: it must only grow). */
  epoch(conversationId: string): string;
  /** The stream of the conversation's frames, published by its owner. */
  frames(conversationId: string): string;
  /** The stream of inputs forwarded to one instance. */
  inbox(instanceId: string): string;
  /** A follower's private stream, written to wake its blocked read. */
  wake(followerId: string): string;
}

/**
 * Key names under `prefix` (which should end with `:`).
 *
 * @example
 * const keys = clusterKeys('parley:');
 * keys.lease('demo'); // 'parley:lease:{demo}'
 */
export function clusterKeys(prefix = 'parley:'): ClusterKeys {
  return {
    prefix,
    lease: (conversationId) => `${prefix}lease:{${conversationId}}`,
    epoch: (conversationId) => `${prefix}epoch:{${conversationId}}`,
    frames: (conversationId) => `${prefix}frames:{${conversationId}}`,
    inbox: (instanceId) => `${prefix}inbox:{${instanceId}}`,
    wake: (followerId) => `${prefix}wake:{${followerId}}`,
  };
}
