import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, enqueueActions, sendParent, setup, stopChild } from 'xstate';
import { indexTimersBySource } from './index-timers.js';

/** A child that tells its parent every second, as a connection's heartbeat does. */
const ticker = setup({}).createMachine({
  initial: 'waiting',
  states: {
    waiting: {
      after: { 1000: { target: 'waiting', reenter: true, actions: sendParent({ type: 'tick' }) } },
    },
  },
});

const parent = setup({
  types: {
    context: {} as { ticks: number },
    events: {} as { type: 'tick' } | { type: 'stop.first' },
  },
  actors: { ticker },
}).createMachine({
  context: { ticks: 0 },
  entry: enqueueActions(({ enqueue }) => {
    for (let index = 0; index < 5; index += 1) enqueue.spawnChild('ticker', { id: `t${index}` });
  }),
  on: {
    tick: { actions: ({ context }) => void (context.ticks += 1) },
    'stop.first': { actions: stopChild('t0') },
  },
});

function start({ indexed }: { indexed: boolean }) {
  const clock = new SimulatedClock();
  const root = createActor(parent, { clock });
  if (indexed) indexTimersBySource(root.system);
  root.start();
  // Count how often anything walks the whole table of scheduled events (which start replaces).
  let walks = 0;
  const internal = root.system as unknown as { _snapshot: { _scheduledEvents: object } };
  internal._snapshot._scheduledEvents = new Proxy(internal._snapshot._scheduledEvents, {
    ownKeys(target) {
      walks += 1;
      return Reflect.ownKeys(target);
    },
  });
  return { clock, root, walks: () => walks };
}

describe('indexTimersBySource', () => {
  it('cancels the stopped actor’s timers and keeps everyone else’s', () => {
    const { clock, root } = start({ indexed: true });
    clock.increment(1000);
    expect(root.getSnapshot().context.ticks).toBe(5);

    root.send({ type: 'stop.first' });
    clock.increment(1000);
    expect(root.getSnapshot().context.ticks).toBe(9);
    clock.increment(1000);
    expect(root.getSnapshot().context.ticks).toBe(13);
  });

  it('stops an actor without walking every scheduled event of the system', () => {
    const indexed = start({ indexed: true });
    indexed.root.send({ type: 'stop.first' });
    expect(indexed.walks()).toBe(0);

    // XState's own cancelAll walks the whole table: the count above could fail.
    const plain = start({ indexed: false });
    plain.root.send({ type: 'stop.first' });
    expect(plain.walks()).toBe(1);
  });

  it('still lets a wrapper installed later see every schedule and cancel', () => {
    const clock = new SimulatedClock();
    const root = createActor(parent, { clock });
    indexTimersBySource(root.system);
    const seen: string[] = [];
    const { scheduler } = root.system;
    const schedule = scheduler.schedule.bind(scheduler);
    const cancel = scheduler.cancel.bind(scheduler);
    scheduler.schedule = (source, target, event, delay, id) => {
      seen.push(`schedule ${source.id}`);
      schedule(source, target, event, delay, id);
    };
    scheduler.cancel = (source, id) => {
      seen.push(`cancel ${source.id}`);
      cancel(source, id);
    };
    root.start();
    root.send({ type: 'stop.first' });
    expect(seen.filter((line) => line.startsWith('schedule'))).toHaveLength(5);
    expect(seen.filter((line) => line.startsWith('cancel'))).toEqual(['cancel t0']);
  });

  it('cancels every timer of an actor that has several', () => {
    const twoTimers = setup({}).createMachine({
      type: 'parallel',
      states: {
        a: { after: { 1000: { actions: sendParent({ type: 'tick' }) } } },
        b: { after: { 2000: { actions: sendParent({ type: 'tick' }) } } },
      },
    });
    const host = setup({
      types: {
        context: {} as { ticks: number },
        events: {} as { type: 'tick' } | { type: 'stop' },
      },
      actors: { twoTimers },
    }).createMachine({
      context: { ticks: 0 },
      entry: enqueueActions(({ enqueue }) => {
        enqueue.spawnChild('twoTimers', { id: 'kept' });
        enqueue.spawnChild('twoTimers', { id: 'stopped' });
      }),
      on: {
        tick: { actions: ({ context }) => void (context.ticks += 1) },
        stop: { actions: stopChild('stopped') },
      },
    });
    const clock = new SimulatedClock();
    const root = createActor(host, { clock });
    indexTimersBySource(root.system);
    root.start();
    root.send({ type: 'stop' });
    clock.increment(2000);
    expect(root.getSnapshot().context.ticks).toBe(2);
  });
});
