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

/**
 * Ids from a seed: `turn_<seed>_1`, `turn_<seed>_2`, `message_<seed>_1` … Each conversation gets
 * its own seed (recorded in its log), so its ids are unique across conversations and restarts
 * and a replay makes exactly the same ones.
 *
 * @example
 * const nextId = seededIds('k3x9q2'); nextId('turn') // 'turn_k3x9q2_1'
 */
export function seededIds(seed: string): IdGenerator {
  const next = sequentialIds();
  return (prefix) => next(`${prefix}_${seed}`);
}

/** A random 8-character seed for {@link seededIds}. */
export function randomSeed(): string {
  return randomBytes(5).toString('hex').slice(0, 8);
}
