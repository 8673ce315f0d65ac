/**
 * The benchmarks' shared clock: wall-clock milliseconds with sub-millisecond precision, so the
 * server process that stamps a token and the client process that receives it can subtract their
 * readings. `Date.now()` only has whole milliseconds, too coarse for a p50 of ~1 ms.
 */

/**
 * Milliseconds since the epoch, with microsecond precision. Comparable across processes on one
 * machine: `performance.timeOrigin` is read from the wall clock at process start, and
 * `performance.now()` is monotonic after it.
 *
 * @example
 * const sentAt = preciseNow(); // 1767225600120.123
 */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
