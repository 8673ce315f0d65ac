import { randomBytes } from 'node:crypto';

/** Makes ids such as `turn_4f1c…`; injected so tests and replays get the same ids every run. */
export type IdGenerator = (prefix: string) => string;

/**
 * Random ids: the prefix and 16 hex characters (64 bits), unique enough for one deployment.
 *
 * @example
 * const nextId = randomIds(); nextId('turn') // 'turn_9b2f0c7d1a6e4b35'
 */
export function randomIds(): IdGenerator {
  return (prefix) => `${prefix}_${randomBytes(8).toString('hex')}`;
}

/**
 * Sequential ids per prefix: `turn_1`, `turn_2`, `message_1` …, for tests and replays.
 *
 * @example
 * const nextId = sequentialIds(); nextId('turn') // 'turn_1'
 */
export function sequentialIds(): IdGenerator {
  const counters = new Map<string, number>();
  return (prefix) => {
    const next = (counters.get(prefix) ?? 0) + 1;
    counters.set(prefix, next);
    return `${prefix}_${next}`;
  };
}
