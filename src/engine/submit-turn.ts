import { tap, type Observable } from 'rxjs';
import type { TurnActorEvent } from '../../actors/conversation-state.js';
import type { WorkerPool } from '../../streams/worker-pool.js';
import type { TurnEvent } from '../agent/turn-event.js';
import { toTurnActorEvent } from './turn-actor-event.js';

/**
 * Submits a turn to the worker pool and tells its conversation what happens, one flat event each:
 * `turn.started` when a worker picks it up (`queued` when it had to wait for one), then each of its events (`turn.text_delta`, …), and
 * `turn.failed` if its stream ends without a `finish` other than by being cancelled (a fault the
 * conversation must close).
 *
 * @example
 * submitTurn(pool, 'turn_1', runTurn(messages, dependencies), (event) => actor.send(event));
 */
export function submitTurn(
  pool: Pick<WorkerPool, 'submit'>,
  turnId: string,
  turn$: Observable<TurnEvent>,
  send: (event: TurnActorEvent) => void,
): void {
  let finished = false;
  // A turn whose worker slot comes later than its submission waited in the pool's queue.
  let submitting = true;
  pool.submit({
    id: turnId,
    onStart: () => {
      send(
        submitting
          ? { type: 'turn.started', turnId }
          : { type: 'turn.started', turnId, queued: true },
      );
    },
    run: () =>
      turn$.pipe(
        tap((event) => {
          if (event.type === 'finish') finished = true;
          send(toTurnActorEvent(turnId, event));
        }),
      ),
    onEnd: (outcome) => {
      if (!finished && outcome !== 'cancelled') {
        send({ type: 'turn.failed', turnId, reason: outcome });
      }
    },
  });
  submitting = false;
}
