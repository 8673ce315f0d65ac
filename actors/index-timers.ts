/**
 * Makes stopping an actor O(its own timers) instead of O(every timer in the system).
 *
 * XState v5's scheduler cancels a stopping actor's delayed events by walking every scheduled
 * event of the whole system (`scheduler.cancelAll`). When every connection actor kept its own
 * heartbeat timer, each close at 10,000 open connections walked 10,000 entries: closing 1,000 of
 * them took 2.2 s, most of it in `cancelAll`. Heartbeats now tick from the connection shards, but
 * handshake, close and conversation idle timers still grow with the system, so this keeps an
 * index of timer ids by the actor that scheduled them and cancels from it. Upstream issue draft:
 * docs/UPSTREAM.md, "2. Stopping an actor walks every scheduled event of the whole system".
 */
import type { ActorSystem, ActorSystemInfo, AnyActorRef } from 'xstate';

type Scheduler = ActorSystem<ActorSystemInfo>['scheduler'];

/**
 * Wraps `system.scheduler` so that `cancelAll(actor)` visits only that actor's timers. Call it
 * once, before the root actor starts. Behaviour is otherwise unchanged: `schedule` and `cancel`
 * go through to XState's own (so wrappers installed later, like the inspector's, still see
 * every call), and a timer that fired leaves a stale id that a later `cancel` ignores.
 *
 * @example
 * const root = createActor(parleyMachine, { input });
 * indexTimersBySource(root.system);
 * root.start();
 */
export function indexTimersBySource(system: { scheduler: Scheduler }): void {
  const scheduler: Scheduler = system.scheduler;
  const schedule = scheduler.schedule.bind(scheduler);
  const cancel = scheduler.cancel.bind(scheduler);
  // Per actor, the ids it scheduled: bounded by its distinct timer ids (a delayed transition
  // reuses its id each time it is entered), and dropped with the actor. Most actors have one
  // timer at a time (a connection's handshake or close), kept as a bare string: a Set apiece would cost
  // about 150 bytes per idle connection.
  const bySource = new WeakMap<AnyActorRef, string | Set<string>>();

  scheduler.schedule = (source, target, event, delay, id) => {
    // XState's default id, so that the index knows it.
    const timerId = id ?? Math.random().toString(36).slice(2);
    const ids = bySource.get(source);
    if (ids === undefined || ids === timerId) bySource.set(source, timerId);
    else if (typeof ids === 'string') bySource.set(source, new Set([ids, timerId]));
    else ids.add(timerId);
    schedule(source, target, event, delay, timerId);
  };
  scheduler.cancel = (source, id) => {
    const ids = bySource.get(source);
    if (ids === id) bySource.delete(source);
    else if (typeof ids === 'object') ids.delete(id);
    cancel(source, id);
  };
  scheduler.cancelAll = (source) => {
    const ids = bySource.get(source);
    if (ids === undefined) return;
    bySource.delete(source);
    // Through the property, as XState does: a wrapper installed later (the inspector's) sees
    // each cancellation.
    for (const id of typeof ids === 'string' ? [ids] : ids) scheduler.cancel(source, id);
  };
}
