import type { Counter } from 'prom-client';

/**
 * Counts by label on the hot path as plain numbers, and hands them to a prom-client counter only
 * when it is scraped. A frame is counted once per recipient: a token fanned out to 100
 * participants is 100 counts, and a `Map` increment costs a tenth of prom-client's `inc`,
 * which builds a label key string and an object for each call (Node 20, 5 million calls of each:
 * 43 ns against 400-430 ns per count).
 *
 * @example
 * const sent = new Tally();
 * new Counter({ name: 'x_total', help: '…', labelNames: ['type'], collect() { sent.copyTo(this, 'type'); } });
 * sent.add('pong');
 */
export class Tally {
  readonly #counts = new Map<string, number>();

  /** Adds `count` under `label`. */
  add(label: string, count = 1): void {
    this.#counts.set(label, (this.#counts.get(label) ?? 0) + count);
  }

  /** The count under `label` (0 when none). */
  get(label: string): number {
    return this.#counts.get(label) ?? 0;
  }

  /** Sets the counter's values to the tallies (from its `collect`, at each scrape). */
  copyTo<TLabel extends string>(counter: Counter<TLabel>, labelName: TLabel): void {
    counter.reset();
    for (const [label, count] of this.#counts) {
      counter.inc({ [labelName]: label } as Partial<Record<TLabel, string>>, count);
    }
  }
}
