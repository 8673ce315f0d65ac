/**
 * How long to wait before retrying a model call: what the provider asked for, or exponential
 * backoff with full jitter.
 */

/** Backoff settings of {@link backoffDelayMs}. */
export interface BackoffOptions {
  /** The first retry waits up to this long. @default 500 */
  baseDelayMs?: number;
  /** No retry waits longer than this. @default 8_000 */
  maxDelayMs?: number;
  /** A number in [0, 1); injected so tests are deterministic. @default Math.random */
  random?: () => number;
}

/**
 * The wait before retry number `attempt` (1 for the first retry): a random time up to
 * `baseDelayMs · 2^(attempt-1)`, capped at `maxDelayMs` ("full jitter", which spreads the
 * retries of many clients hit by the same outage instead of sending them back together).
 *
 * @example
 * backoffDelayMs(2, { baseDelayMs: 500, random: () => 0.5 }); // 500
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 8_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * The wait a provider asks for in its response headers, in milliseconds: `retry-after-ms`
 * (OpenAI), else `retry-after` as seconds or as an HTTP date. Undefined when it says nothing
 * usable.
 *
 * @example
 * retryAfterMs({ 'retry-after': '2' }); // 2000
 */
export function retryAfterMs(
  headers: Readonly<Record<string, string>> | undefined,
  now: () => number = Date.now,
): number | undefined {
  if (headers === undefined) return undefined;
  const lookup = (name: string): string | undefined =>
    Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  const milliseconds = Number.parseFloat(lookup('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.ceil(milliseconds);
  const value = lookup('retry-after');
  if (value === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.ceil(Number.parseFloat(value) * 1_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}
