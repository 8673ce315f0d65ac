/**
 * A tool call as a card people can read: the tool's name and state, its arguments (as text while
 * the model writes them, then as name/value lines) and its result (or error), the question and
 * answer when it needs approval, and the raw frames folded away for whoever needs the exact JSON.
 */
import type { ServerFrame } from 'parley-engine/client';
import { h } from '../shared/dom.js';
import { ApprovalBox, type AnswerApproval } from './approval-box.js';
import { plainValue, prettyJson } from './format.js';
import { StreamedText } from './streamed-text.js';

type ToolCallDeltaFrame = Extract<ServerFrame, { type: 'tool_call_delta' }>;
type ToolCallFrame = Extract<ServerFrame, { type: 'tool_call' }>;
type ToolResultFrame = Extract<ServerFrame, { type: 'tool_result' }>;
type RequestFrame = Extract<ServerFrame, { type: 'tool_approval_request' }>;
type DecisionFrame = Extract<ServerFrame, { type: 'tool_approval_decision' }>;

/** A labelled line of `name value` pairs for an object's fields, or the value itself. */
function valueLine(label: string, value: unknown, className: string): HTMLElement {
  const list = h('dl', { class: className });
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [name, item] of entries) {
      list.append(h('div', {}, h('dt', { text: name }), h('dd', { text: plainValue(item) })));
    }
    if (entries.length === 0) list.append(h('div', {}, h('dd', { class: 'none', text: 'none' })));
  } else {
    list.append(h('div', {}, h('dd', { text: plainValue(value) })));
  }
  return h('div', { class: 'tool-line' }, h('span', { class: 'tool-label', text: label }), list);
}

/** One tool call's card; a result (arriving later, or in the same history page) completes it. */
export class ToolCard {
  readonly element: HTMLElement;
  private readonly status = h('span', { class: 'tool-status', text: 'running…' });
  private readonly body = h('div', { class: 'tool-body' });
  private readonly raw = h('pre', { class: 'raw-json' });
  // Hidden while only the arguments' pieces came: they are not kept as raw frames.
  private readonly rawBox = h(
    'details',
    { class: 'raw', hidden: true },
    h('summary', { text: 'Raw JSON' }),
    this.raw,
  );
  private readonly frames: unknown[] = [];
  private approval: ApprovalBox | undefined;
  private readonly written = new StreamedText();
  private readonly partial = h('code', {
    class: 'tool-partial',
    'data-testid': 'tool-arguments-streaming',
  });
  private partialLine: HTMLElement | undefined;
  private partialShown = true;
  private called = false;
  private ended = false;

  constructor(
    private readonly toolCallId: string,
    private readonly toolName: string,
  ) {
    this.element = h(
      'div',
      {
        class: 'tool',
        'data-testid': 'tool-call',
        'data-tool-call-id': toolCallId,
        'data-state': 'running',
      },
      h(
        'div',
        { class: 'tool-head' },
        h('span', { class: 'tool-name', text: toolName }),
        this.status,
      ),
      this.body,
      this.rawBox,
    );
  }

  /**
   * A piece of the arguments as the model writes them (JSON text, possibly cut mid-word), shown
   * as text until the complete call replaces it. Ignored once the call is known: a history page
   * older than the call's may still bring its pieces.
   */
  argumentsDelta(frame: ToolCallDeltaFrame): void {
    if (this.called) return;
    this.written.add(frame.seq, frame.delta);
    this.partialShown = false;
    if (this.partialLine === undefined) {
      this.partialLine = h(
        'div',
        { class: 'tool-line' },
        h('span', { class: 'tool-label', text: 'arguments' }),
        this.partial,
      );
      this.body.prepend(this.partialLine);
    }
    if (this.element.dataset.state === 'running') this.writing();
  }

  /** Shows the arguments written so far, if more came since they were last shown. */
  render(): void {
    if (this.partialShown) return;
    this.partialShown = true;
    this.partial.textContent = this.written.value;
  }

  /** Shows the call's arguments, in place of the text written so far. */
  call(frame: ToolCallFrame): void {
    this.called = true;
    this.partialLine?.remove();
    const state = this.element.dataset.state;
    if (state === 'writing' || state === 'unfinished') this.show('running', 'running…');
    this.body.prepend(valueLine('arguments', frame.arguments ?? {}, 'tool-arguments'));
    this.addRaw(frame, 'start');
  }

  /** The call waits for a participant's approval: the question, with Approve and Deny. */
  approvalRequest(frame: RequestFrame, answer: AnswerApproval): void {
    if (this.element.dataset.state === 'running') {
      this.element.dataset.state = 'awaiting';
      this.status.textContent = 'waiting for approval';
    }
    this.approvalBox().ask(frame, answer);
    // From history, a later page may have shown the turn's end before this request: never
    // offer Approve and Deny for a call whose turn is over.
    if (this.ended) this.approval?.closed();
    this.addRaw(frame, 'end');
  }

  /** How the call was decided; an approved call runs next. */
  approvalDecision(frame: DecisionFrame): void {
    if (this.element.dataset.state === 'awaiting') {
      this.element.dataset.state = frame.decision === 'approved' ? 'running' : 'denied';
      this.status.textContent = frame.decision === 'approved' ? 'approved · running…' : 'denied';
    }
    this.approvalBox().decided(frame);
    this.addRaw(frame, 'end');
  }

  /** Its turn ended: a question still open is closed, arguments still being written never will be. */
  turnEnded(): void {
    this.ended = true;
    this.approval?.closed();
    if (this.element.dataset.state === 'writing') this.writing();
  }

  /** Shows the result or the error, and how long the call took. */
  result(frame: ToolResultFrame): void {
    const denied = frame.error?.code === 'tool_denied';
    this.element.dataset.state = frame.ok ? 'done' : denied ? 'denied' : 'failed';
    this.element.dataset.ok = String(frame.ok);
    const took = `${String(Math.round(frame.duration_ms))} ms`;
    this.status.textContent = frame.ok
      ? `done in ${took}`
      : denied
        ? 'not run: denied'
        : `failed after ${took}`;
    this.body.append(
      frame.ok
        ? valueLine('result', frame.result, 'tool-result')
        : valueLine(
            'error',
            `${frame.error?.code ?? 'error'}: ${frame.error?.message ?? 'the tool failed'}`,
            'tool-error',
          ),
    );
    this.addRaw(frame, 'end');
  }

  /** The model is writing the arguments, or stopped before it finished (its turn ended). */
  private writing(): void {
    if (this.ended) this.show('unfinished', 'not called: the turn ended first');
    else this.show('writing', 'writing arguments…');
  }

  private show(state: string, status: string): void {
    this.element.dataset.state = state;
    this.status.textContent = status;
  }

  private approvalBox(): ApprovalBox {
    if (this.approval === undefined) {
      this.approval = new ApprovalBox(this.toolCallId, this.toolName);
      this.body.append(this.approval.element);
    }
    return this.approval;
  }

  private addRaw(frame: unknown, where: 'start' | 'end'): void {
    if (where === 'start') this.frames.unshift(frame);
    else this.frames.push(frame);
    this.raw.textContent = this.frames.map((item) => prettyJson(item)).join('\n\n');
    this.rawBox.hidden = false;
  }
}
