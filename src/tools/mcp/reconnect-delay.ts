/**
 * How long an MCP connection waits before its next attempt after a failure: exponential backoff
 * with jitter, so servers that fail together (a shared host restarting) are not retried in step.
 */

/** The backoff of reconnection attempts. */
export interface ReconnectBackoff {
  /** Delay before the first retry, in ms. @default 500 */
  initialMs: number;
  /** Upper bound of any delay, in ms. @default 30_000 */
  maxMs: number;
  /** Each failed attempt multiplies the delay by this. @default 2 */
  factor: number;
}

/** The backoff used unless configured otherwise. */
export const DEFAULT_RECONNECT_BACKOFF: ReconnectBackoff = {
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
};

/**
 * The delay before retry number `failures` (1 after the first failure): the backoff's delay for
 * that retry, of which a random half is taken off ("equal jitter"), so it lies in
 * `[delay / 2, delay]`.
 *
 * @example
 * reconnectDelay(1, DEFAULT_RECONNECT_BACKOFF, () => 1); // 500
 * reconnectDelay(3, DEFAULT_RECONNECT_BACKOFF, () => 0); // 1000 (half of 2000)
 */
export function reconnectDelay(
  failures: number,
  backoff: ReconnectBackoff,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failures - 1);
  const delay = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** exponent);
  return Math.round(delay / 2 + (delay / 2) * random());
}
