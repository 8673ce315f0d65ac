/**
 * The answer strip under the diagram's header: while the selected conversation (or the
 * conversation of the selected connection) runs a turn, the text its agent has written so far,
 * beside the state it is in. Live, from the conversation's activity (the end of the answer);
 * while time travelling, from the conversation's context at that point.
 */
import type { ConversationActivity } from '../../inspector/inspector-protocol.js';
import { field, stringField } from './dom.js';

/** What the strip shows: a turn, what it is doing, and its answer so far. */
export interface AnswerSoFar {
  turnId: string;
  phase: string;
  text: string;
  /** Characters of the answer before `text` (cut off at the start). */
  omitted: number;
  historical: boolean;
}

/** The answer of a live conversation's running turn, or null between turns. */
export function liveAnswer(activity: ConversationActivity | null | undefined): AnswerSoFar | null {
  if (!activity || activity.turn_id === null) return null;
  return {
    turnId: activity.turn_id,
    phase: activity.turn_phase ?? '',
    text: activity.answer,
    omitted: activity.answer_offset,
    historical: false,
  };
}

/** The answer of the running turn in a conversation's context at a point of its timeline. */
export function answerAt(context: unknown): AnswerSoFar | null {
  const turn = field(context, 'activeTurn');
  const turnId = stringField(turn, 'turnId');
  if (turnId === undefined) return null;
  return {
    turnId,
    phase: stringField(turn, 'phase') ?? '',
    // The inspector's sanitizer keeps the start of a long string and says how much it cut.
    text: stringField(turn, 'text') ?? '',
    omitted: 0,
    historical: true,
  };
}

/** The strip (`data-testid="answer"`). */
export class AnswerView {
  private readonly label: HTMLElement;
  private readonly text: HTMLElement;

  constructor(private readonly element: HTMLElement) {
    this.label = element.querySelector<HTMLElement>('.answer-label') ?? element;
    this.text = element.querySelector<HTMLElement>('.answer-text') ?? element;
  }

  /** Shows an answer, or hides the strip for null. */
  show(answer: AnswerSoFar | null): void {
    this.element.hidden = answer === null;
    if (answer === null) return;
    this.element.classList.toggle('historical', answer.historical);
    this.element.dataset.turnId = answer.turnId;
    this.element.dataset.phase = answer.phase;
    const length = answer.omitted + answer.text.length;
    const when = answer.historical ? 'at this point' : 'so far';
    this.label.textContent = `Answer ${when} · ${answer.phase} · ${length.toLocaleString()} characters · ${answer.turnId}`;
    this.text.textContent =
      answer.text === '' ? '(no text yet)' : `${answer.omitted > 0 ? '…' : ''}${answer.text}`;
    // The end is what is being written: keep it in view.
    this.text.scrollTop = this.text.scrollHeight;
  }
}
