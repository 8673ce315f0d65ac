/**
 * A tool call that waits for a participant's approval, inside its tool card: what is asked and
 * by when, an optional reason with Approve and Deny, then how it was decided (by whom and why, or
 * that nobody answered in time). Every participant sees it; the server decides who may answer.
 */
import type { ToolApprovalDecisionFrame, ToolApprovalRequestFrame } from 'parley-engine/client';
import { h } from '../shared/dom.js';
import { timeElement } from './format.js';

/** Longest reason the server takes (`MAX_APPROVAL_REASON_CHARS`). */
const MAX_REASON = 500;

/**
 * Sends an answer; resolves true once it was answered (or refused by the server, which says why
 * in an `error` frame), false when it could not be sent, so the buttons come back.
 */
export type AnswerApproval = (
  toolCallId: string,
  decision: 'approve' | 'deny',
  reason: string | undefined,
) => Promise<boolean>;

/** The approval part of one tool card. */
export class ApprovalBox {
  readonly element: HTMLElement;
  private readonly question = h('p', { class: 'approval-question' });
  private readonly reason = h('input', {
    class: 'approval-reason',
    'data-testid': 'approval-reason',
    type: 'text',
    maxlength: MAX_REASON,
    placeholder: 'Reason (optional)',
    'aria-label': 'Reason for your answer (optional)',
  });
  private readonly approve = h('button', {
    class: 'primary',
    type: 'button',
    'data-testid': 'approve',
    text: 'Approve',
  });
  private readonly deny = h('button', { type: 'button', 'data-testid': 'deny', text: 'Deny' });
  private readonly controls = h('div', { class: 'approval-controls' });

  constructor(
    private readonly toolCallId: string,
    toolName: string,
  ) {
    this.controls.append(this.reason, this.approve, this.deny);
    this.element = h(
      'div',
      {
        class: 'approval',
        'data-testid': 'approval',
        'data-state': 'pending',
        role: 'group',
        'aria-label': `Approval of ${toolName}`,
      },
      this.question,
      this.controls,
    );
  }

  /** Shows the request with its buttons, wired to `answer`. */
  ask(frame: ToolApprovalRequestFrame, answer: AnswerApproval): void {
    if (this.element.dataset.state !== 'pending') return;
    this.question.replaceChildren(
      h('strong', { text: 'Needs approval' }),
      ' · answer by ',
      timeElement(frame.deadline),
      ', or it is denied.',
    );
    const send = (decision: 'approve' | 'deny') => {
      const reason = this.reason.value.trim();
      this.setBusy(true);
      void answer(this.toolCallId, decision, reason === '' ? undefined : reason).then((sent) => {
        if (!sent) this.setBusy(false);
      });
    };
    this.approve.addEventListener('click', () => {
      send('approve');
    });
    this.deny.addEventListener('click', () => {
      send('deny');
    });
  }

  /** Shows how the call was decided; the buttons go. */
  decided(frame: ToolApprovalDecisionFrame): void {
    const approved = frame.decision === 'approved';
    this.element.dataset.state = frame.decision;
    const who =
      frame.timed_out === true
        ? 'nobody answered in time'
        : `by ${frame.decided_by ?? 'a participant'}`;
    const why = frame.reason === undefined ? '' : `: ${frame.reason}`;
    this.question.replaceChildren(
      h('strong', { text: approved ? 'Approved' : 'Denied' }),
      ` ${frame.timed_out === true ? '· ' : ''}${who}${why}`,
    );
    this.question.dataset.testid = 'approval-decision';
    this.controls.remove();
  }

  /** The turn ended (cancelled, interrupted) while the call still waited. */
  closed(): void {
    if (this.element.dataset.state !== 'pending') return;
    this.element.dataset.state = 'closed';
    this.question.replaceChildren(h('strong', { text: 'Not decided' }), ': the turn ended first.');
    this.controls.remove();
  }

  private setBusy(busy: boolean): void {
    this.approve.disabled = busy;
    this.deny.disabled = busy;
    this.reason.disabled = busy;
  }
}
