/**
 * A micro-benchmark behind one finding of the hot-path profile: XState copies a parent's
 * `children` object on every `spawn` (inside `assign`) and every `stopChild`, so one parent that
 * holds every connection actor pays O(open connections) per connection opened or closed. Measures
 * the cost per spawn and per stop with all children under one parent, and with the same children
 * spread over 64 shard parents.
 *
 * Run: `npx tsx bench/xstate-children.ts [--quick] [--json file]` (one process, no servers).
 */
import { assign, createActor, createMachine, setup, stopChild, type AnyActorRef } from 'xstate';
import { parseBenchOptions } from './support/options.js';
import { emitResult, markdownTable } from './support/report.js';

/** One measurement: the mean cost of the spawns that took the parent from `from` to `to`. */
export interface ChildrenStep {
  layout: 'one parent' | '64 shards';
  from: number;
  to: number;
  microsPerSpawn: number;
}

const child = createMachine({ id: 'child', initial: 'open', states: { open: {} } });
const parentMachine = setup({
  types: { events: {} as { type: 'open'; id: string } | { type: 'close'; id: string } },
  actors: { child },
}).createMachine({
  id: 'parent',
  on: {
    open: {
      actions: assign(({ event, spawn }) => {
        spawn('child', { id: event.id, systemId: event.id });
        return {};
      }),
    },
    close: { actions: stopChild(({ event }) => event.id) },
  },
});

const options = parseBenchOptions();
const steps = options.quick ? [1_000, 5_000] : [1_000, 5_000, 10_000, 20_000];
const idOf = (index: number) => `connection:conn_${index.toString(16).padStart(16, '0')}`;

function measure(layout: ChildrenStep['layout']): { steps: ChildrenStep[]; microsPerStop: number } {
  const parents: AnyActorRef[] = Array.from({ length: layout === 'one parent' ? 1 : 64 }, () =>
    createActor(parentMachine).start(),
  );
  const parentOf = (index: number) => parents[index % parents.length] as AnyActorRef;
  const results: ChildrenStep[] = [];
  let open = 0;
  for (const target of steps) {
    const started = performance.now();
    const from = open;
    for (; open < target; open += 1) parentOf(open).send({ type: 'open', id: idOf(open) });
    results.push({
      layout,
      from,
      to: target,
      microsPerSpawn: Math.round(((performance.now() - started) * 1000) / (target - from)),
    });
  }
  const stops = Math.min(1_000, open);
  const started = performance.now();
  for (let index = 0; index < stops; index += 1) {
    parentOf(index).send({ type: 'close', id: idOf(index) });
  }
  const microsPerStop = Math.round(((performance.now() - started) * 1000) / stops);
  for (const parent of parents) parent.stop();
  return { steps: results, microsPerStop };
}

const oneParent = measure('one parent');
const sharded = measure('64 shards');
const result = {
  benchmark: 'xstate-children',
  steps: [...oneParent.steps, ...sharded.steps],
  microsPerStop: { oneParent: oneParent.microsPerStop, sharded: sharded.microsPerStop },
};
const top = steps[steps.length - 1] ?? 0;
emitResult(
  options,
  'XState: cost of spawning a child as the parent grows',
  markdownTable(
    ['layout', 'children', 'µs per spawn'],
    result.steps.map((step) => [
      step.layout,
      `${step.from.toLocaleString('en-US')} → ${step.to.toLocaleString('en-US')}`,
      step.microsPerSpawn,
    ]),
  ) +
    `\n\nµs per stop at ${top.toLocaleString('en-US')} children: one parent ${oneParent.microsPerStop}, 64 shards ${sharded.microsPerStop}`,
  result,
);
