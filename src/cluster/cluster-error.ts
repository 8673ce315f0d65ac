/**
 * Turns a failure of Redis (or of a cluster step) into the one error callers see: a
 * `cluster_unavailable` {@link ParleyError} that keeps the cause. Messages never hold a Redis URL,
 * so a password in it cannot leak.
 */
import { ParleyError } from '../errors.js';

/**
 * A `cluster_unavailable` error for `context`, keeping `error` as its cause; a
 * {@link ParleyError} passes through unchanged.
 *
 * @example
 * throw clusterUnavailable('Renewing the lease of demo failed', error);
 */
export function clusterUnavailable(context: string, error: unknown): ParleyError {
  if (error instanceof ParleyError) return error;
  const reason =
    error instanceof AggregateError && error.errors[0] instanceof Error
      ? error.errors[0].message
      : error instanceof Error
        ? error.message
        : String(error);
  return new ParleyError('cluster_unavailable', `${context}: ${reason}`, { cause: error });
}
