/**
 * Reconnection delays: exponential backoff with full jitter.
 */

/** How long to wait between reconnection attempts. */
export interface BackoffOptions {
  /** Upper bound of the first delay, in milliseconds. @default 250 */
  initialDelayMs: number;
  /** Upper bound of any delay, in milliseconds. @default 10_000 */
  maxDelayMs: number;
}

/** The defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 10_000 };

/**
 * The delay before reconnection attempt `attempt` (0 for the first): a uniformly random value in
 * `[0, min(maxDelayMs, initialDelayMs * 2^attempt))`.
 *
 * Full jitter rather than a fixed exponential: when a server restarts, every client it dropped
 * reconnects at the same moment, and spreading them over the whole window is what keeps them from
 * arriving as one wave (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 *
 * @example
 * backoffDelay(0, DEFAULT_BACKOFF); // somewhere in [0, 250)
 * backoffDelay(10, DEFAULT_BACKOFF); // somewhere in [0, 10 000)
 */
export function backoffDelay(
  attempt: number,
  { initialDelayMs, maxDelayMs }: BackoffOptions,
  random: () => number = Math.random,
): number {
  // 2 ** attempt overflows to Infinity for huge attempts; Math.min keeps the cap.
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
