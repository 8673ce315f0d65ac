import { ignoreElements, tap, type Observable } from 'rxjs';
import type { TurnActorEvent } from '../../actors/conversation-state.js';
import type { WorkerPool } from '../../streams/worker-pool.js';
import type { TurnEvent, TurnProgressEvent } from '../agent/turn-event.js';
import { toTurnActorEvent } from './turn-actor-event.js';

/**
 * Submits a turn to the worker pool and tells its conversation what happens, one flat event each:
 * `turn.started` when a worker picks it up (`queued` when it had to wait for one), then each of its events (`turn.text_delta`, …), and
 * `turn.failed` if its stream ends without a `finish` (or `approval-needed`) other than by being
 * cancelled (a fault the conversation must close). The continuation of a turn that waited for
 * approvals is submitted as the job `resumedAs`, and starts with `turn.resumed`.
 *
 * @example
 * submitTurn(pool, 'turn_1', runTurn(messages, dependencies), (event) => actor.send(event));
 */
export function submitTurn(
  pool: Pick<WorkerPool, 'submit'>,
  turnId: string,
  turn$: Observable<TurnEvent | TurnProgressEvent>,
  send: (event: TurnActorEvent) => void,
  resumedAs?: string,
  /** Called once, when the turn leaves the pool's queue: it starts, or ends without starting. */
  onDequeued?: () => void,
): void {
  let finished = false;
  let inQueue = true;
  const dequeued = () => {
    if (!inQueue) return;
    inQueue = false;
    onDequeued?.();
  };
  // A turn whose worker slot comes later than its submission waited in the pool's queue.
  let submitting = true;
  pool.submit({
    id: resumedAs ?? turnId,
    onStart: () => {
      dequeued();
      const queued = submitting ? {} : { queued: true as const };
      send(
        resumedAs === undefined
          ? { type: 'turn.started', turnId, ...queued }
          : { type: 'turn.resumed', turnId, jobId: resumedAs, ...queued },
      );
    },
    run: () =>
      turn$.pipe(
        tap((event) => {
          if (event.type === 'finish' || event.type === 'approval-needed') finished = true;
          const actorEvent = toTurnActorEvent(turnId, event);
          if (actorEvent !== undefined) send(actorEvent);
        }),
        // Delivered: nothing downstream reads the events. Stopped here, a token does not go on
        // through the pool's takeUntil, catchError, finalize and mergeMap to an empty subscriber.
        ignoreElements(),
      ),
    onEnd: (outcome) => {
      dequeued();
      if (!finished && outcome !== 'cancelled') {
        send({ type: 'turn.failed', turnId, reason: outcome });
      }
    },
  });
  submitting = false;
}
