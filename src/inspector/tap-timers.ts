/**
 * XState reports no timers: they are scheduled through the actor system's scheduler, so the
 * inspector wraps it (once per system) to record each delayed event scheduled and cancelled.
 */
import type { AnyActorRef } from 'xstate';
import { isConnectionShard } from '../../actors/connection-shard.machine.js';
import { isConversationShard } from '../../actors/conversation-shard.machine.js';
import { pathOf } from './actor-paths.js';

type TimerRecord = 'timer.scheduled' | 'timer.cancelled';

/**
 * Wraps `scheduler` to report its timers to `onTimer`, with the path of the actor that set them.
 * The shards' heartbeat timers are plumbing: their ticks show up as events from `parley`.
 *
 * @example
 * tapTimers(root.system.scheduler, (path, kind, detail) => hub.record(path, kind, detail));
 */
export function tapTimers(
  scheduler: AnyActorRef['system']['scheduler'],
  onTimer: (path: string, kind: TimerRecord, detail: Record<string, unknown>) => void,
): void {
  const schedule = scheduler.schedule.bind(scheduler);
  const cancel = scheduler.cancel.bind(scheduler);
  scheduler.schedule = (source, target, event, delay, id) => {
    if (!isConnectionShard(source) && !isConversationShard(source)) {
      onTimer(pathOf(source), 'timer.scheduled', {
        id: id ?? null,
        event_type: event.type,
        delay,
        target: pathOf(target),
      });
    }
    schedule(source, target, event, delay, id);
  };
  scheduler.cancel = (source, id) => {
    if (!isConnectionShard(source) && !isConversationShard(source))
      onTimer(pathOf(source), 'timer.cancelled', { id });
    cancel(source, id);
  };
}
