import type { TurnActorEvent } from '../../actors/conversation-state.js';
import type { FrameBody } from '../engine/stamp-frame.js';
import { isErrorCode } from '../errors.js';
import type { ParleyMetrics } from './parley-metrics.js';

interface Timing {
  startedAt: number;
  firstTokenAt?: number;
}

/**
 * One conversation's turn metrics, read at its two chokepoints: the turn events that reach the
 * conversation (a worker starting a turn, its first token) and the frames it publishes (the
 * completion, whatever ended the turn: the model, a cancel, an interrupt, a fault; and every
 * refusal). Only turns in flight are kept, by turn id.
 *
 * @example
 * const meter = new TurnMeter(metrics, Date.now);
 * submitTurn(pool, turnId, turn$, meter.observe(send));
 * meter.published(body);
 */
export class TurnMeter {
  readonly #metrics: ParleyMetrics;
  readonly #now: () => number;
  /** Made by the first turn: most conversations never have one. */
  #turns: Map<string, Timing> | undefined;

  constructor(metrics: ParleyMetrics, now: () => number) {
    this.#metrics = metrics;
    this.#now = now;
  }

  /** Wraps a turn's `send` to its conversation so its start and first token are timed. */
  observe(send: (event: TurnActorEvent) => void): (event: TurnActorEvent) => void {
    return (event) => {
      if (event.type === 'turn.started') {
        (this.#turns ??= new Map()).set(event.turnId, { startedAt: this.#now() });
        this.#metrics.turnStarted();
      } else if (event.type === 'turn.text_delta') {
        const timing = this.#turns?.get(event.turnId);
        if (timing !== undefined && timing.firstTokenAt === undefined) {
          timing.firstTokenAt = this.#now();
          this.#metrics.firstToken((timing.firstTokenAt - timing.startedAt) / 1000);
        }
      }
      send(event);
    };
  }

  /** Reads a frame the conversation publishes: a completion ends its turn's timing. */
  published(body: FrameBody): void {
    if (body.type === 'error') {
      if (isErrorCode(body.code)) this.#metrics.refused(body.code);
      return;
    }
    if (body.type !== 'agent_response_complete') return;
    const turnId = String(body.turn_id);
    const status = String(body.status);
    const timing = this.#turns?.get(turnId);
    this.#turns?.delete(turnId);
    if (timing === undefined) {
      // Cancelled or interrupted before a worker took it.
      this.#metrics.turnFinished(status);
      return;
    }
    const seconds = (at: number) => (at - timing.startedAt) / 1000;
    const usage = body.usage as { output_tokens?: unknown } | undefined;
    this.#metrics.turnFinished(status, {
      durationSeconds: seconds(this.#now()),
      ...(timing.firstTokenAt === undefined
        ? {}
        : { firstTokenSeconds: seconds(timing.firstTokenAt) }),
      outputTokens: typeof usage?.output_tokens === 'number' ? usage.output_tokens : 0,
    });
  }
}
