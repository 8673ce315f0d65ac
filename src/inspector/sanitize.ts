/** Limits applied to what the inspector is shown. */
export interface SanitizeLimits {
  /** Longest string kept, in characters. @default 500 */
  maxString: number;
  /** Items kept from an array (the last ones). @default 50 */
  maxArray: number;
  /** Depth of nested objects kept. @default 6 */
  maxDepth: number;
}

export const DEFAULT_SANITIZE_LIMITS: SanitizeLimits = {
  maxString: 500,
  maxArray: 50,
  maxDepth: 6,
};

/** Keys never shown: injected effects, and anything that looks like a credential. */
const HIDDEN_KEYS = new Set(['effects', 'socket', 'conversation']);
// Keys that end in a credential word (`token`, `jwtSecret`, `authorization`), not keys that merely
// contain one (`input_tokens`, `token_pacing_ms`).
const SECRET_KEY = /(token|secret|password|authorization|jwt|api[_-]?key|cookie)$/i;

/**
 * A JSON-safe, bounded copy of a value for the inspector: functions and injected effects are
 * dropped, actor references become `{ actor: id }`, secrets are redacted, long strings and
 * arrays are cut with a note of how much was left out, and depth is bounded. Large histories
 * and secrets never flood or leak through the inspector.
 *
 * @example
 * sanitize(snapshot.context) // { seq: 12, history: { truncated: 150, items: [...] }, ... }
 */
export function sanitize(
  value: unknown,
  limits: SanitizeLimits = DEFAULT_SANITIZE_LIMITS,
  depth = 0,
): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    return value.length > limits.maxString
      ? `${value.slice(0, limits.maxString)}… (${value.length - limits.maxString} more characters)`
      : value;
  }
  if (typeof value === 'undefined' || typeof value === 'function' || typeof value === 'symbol') {
    return undefined;
  }
  if (typeof value === 'bigint') return value.toString();
  if (isActorRef(value)) return { actor: value.id };
  if (depth >= limits.maxDepth) return '…';
  if (Array.isArray(value)) {
    const kept = value.slice(-limits.maxArray).map((item) => sanitize(item, limits, depth + 1));
    return value.length > limits.maxArray
      ? { truncated: value.length - limits.maxArray, items: kept }
      : kept;
  }
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (HIDDEN_KEYS.has(key)) continue;
    if (SECRET_KEY.test(key)) {
      result[key] = '[redacted]';
      continue;
    }
    const clean = sanitize(item, limits, depth + 1);
    if (clean !== undefined) result[key] = clean;
  }
  return result;
}

function isActorRef(value: unknown): value is { id: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { send?: unknown }).send === 'function' &&
    typeof (value as { id?: unknown }).id === 'string'
  );
}

/** A state value (`{ working: 'streaming' }`) as a dotted string (`working.streaming`). */
export function stateToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return '';
  return Object.entries(value as Record<string, unknown>)
    .map(([key, child]) => {
      const rest = stateToString(child);
      return rest === '' ? key : `${key}.${rest}`;
    })
    .join(',');
}
