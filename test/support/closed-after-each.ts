/**
 * Stores (or anything with `close()`) opened in a test and closed after it, whatever the test did.
 */
import { afterEach } from 'vitest';

/**
 * Wraps an opener so that everything it opens is closed after each test of the suite that calls
 * this (inside a `describe`, or at the top of a file).
 *
 * @example
 * const open = closedAfterEach(SqliteEventStore.open);
 * const store = open(path, { indexTailEntries: 8 });
 */
export function closedAfterEach<TArgs extends unknown[], TOpened extends { close(): unknown }>(
  open: (...args: TArgs) => TOpened,
): (...args: TArgs) => TOpened {
  const opened: TOpened[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((item) => item.close()));
  });
  return (...args) => {
    const item = open(...args);
    opened.push(item);
    return item;
  };
}
