/**
 * One agent turn in the message list: who answers, when, the model's reasoning folded away, its
 * tool calls as cards, and its answer as Markdown, growing chunk by chunk until the completion
 * replaces it with the final text.
 */
import type { ServerFrame } from 'parley-engine/client';
import { h } from '../shared/dom.js';
import { timeElement } from './format.js';
import { renderMarkdown } from './markdown.js';
import { StreamedText } from './streamed-text.js';
import { ToolCard } from './tool-card.js';

type CompleteFrame = Extract<ServerFrame, { type: 'agent_response_complete' }>;
type ReasoningFrame = Extract<ServerFrame, { type: 'agent_reasoning_chunk' }>;

const STATUS_WORDS: Record<CompleteFrame['status'], string> = {
  completed: 'completed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
  failed: 'failed',
  timed_out: 'timed out',
  step_limit: 'step limit reached',
  budget_exceeded: 'token budget spent',
};

/** An agent turn's element and what it has received. */
export class AgentTurn {
  readonly element: HTMLElement;
  private readonly author = h('span', { class: 'author' });
  private readonly meta = h('span', { class: 'meta' });
  private readonly tools = h('div', { class: 'tools' });
  private readonly text = h('div', { class: 'text markdown' });
  private readonly cards = new Map<string, ToolCard>();
  private readonly reasoning = new StreamedText();
  private readonly reasoningText = h('div', {
    class: 'reasoning-text',
    'data-testid': 'reasoning-text',
  });
  private readonly reasoningSize = h('span', { class: 'reasoning-size' });
  // Closed by default: the answer is what people came for; the reasoning is there to look into.
  private readonly reasoningBox = h(
    'details',
    { class: 'reasoning', 'data-testid': 'reasoning', hidden: true },
    h('summary', {}, h('span', { text: 'Reasoning' }), this.reasoningSize),
    this.reasoningText,
  );
  private reasoningShown = true;
  private content = '';
  private completed = false;
  private rendered = true;

  constructor(turnId: string, agentName: string) {
    this.element = h(
      'article',
      {
        class: 'message agent',
        'data-testid': 'agent-message',
        'data-turn-id': turnId,
        'data-status': 'streaming',
        'aria-label': `${agentName}'s answer`,
      },
      h('header', {}, this.author, this.meta),
      this.reasoningBox,
      this.tools,
      this.text,
    );
    this.author.textContent = agentName;
  }

  /**
   * The turn's tool card for a call, made on first sight; cards stand in the order their calls
   * began (`seq` of the frame), whichever history page brought them first.
   */
  card(toolCallId: string, toolName: string, seq: number): ToolCard {
    let card = this.cards.get(toolCallId);
    if (card === undefined) {
      card = new ToolCard(toolCallId, toolName);
      this.cards.set(toolCallId, card);
      if (this.completed) card.turnEnded();
    }
    const element = card.element;
    if (seq < Number(element.dataset.seq ?? Infinity)) {
      element.dataset.seq = String(seq);
      const later = [...this.tools.children].find(
        (other) => other !== element && Number((other as HTMLElement).dataset.seq) > seq,
      );
      this.tools.insertBefore(element, later ?? null);
    }
    return card;
  }

  /** Adds a piece of the model's reasoning. */
  reasoningChunk(frame: ReasoningFrame): void {
    this.reasoning.add(frame.seq, frame.delta);
    this.reasoningShown = false;
  }

  /** Shows when the turn started (its earliest frame seen). */
  startedAt(timestamp: number): void {
    const shown = Number(this.meta.dataset.at ?? Infinity);
    if (timestamp >= shown) return;
    this.meta.dataset.at = String(timestamp);
    this.meta.replaceChildren(timeElement(timestamp));
  }

  /** Appends a streamed piece of the answer (ignored once the final text is known). */
  chunk(delta: string): void {
    if (this.completed) return;
    this.content += delta;
    this.rendered = false;
  }

  /** The turn ended: its final text (partial when cancelled) and how it ended. */
  complete(frame: CompleteFrame): void {
    this.completed = true;
    for (const card of this.cards.values()) card.turnEnded();
    this.content = frame.content;
    this.rendered = false;
    this.element.dataset.status = frame.status;
    if (frame.status === 'completed') return;
    const why =
      frame.error !== undefined
        ? `${frame.error.code}: ${frame.error.message}`
        : frame.cancelled_by !== undefined
          ? `cancelled by ${frame.cancelled_by}`
          : STATUS_WORDS[frame.status];
    this.meta.after(
      h('span', {
        class: `badge ${frame.status === 'cancelled' ? 'warn' : 'bad'}`,
        'data-testid': 'turn-status',
        title: why,
        text: STATUS_WORDS[frame.status],
      }),
    );
  }

  /**
   * Shows what changed: the reasoning and the arguments being written as text, the answer as
   * Markdown; returns whether the answer was rendered.
   */
  render(): boolean {
    for (const card of this.cards.values()) card.render();
    this.renderReasoning();
    if (this.rendered) return false;
    this.rendered = true;
    renderMarkdown(this.text, this.content);
    return true;
  }

  private renderReasoning(): void {
    if (this.reasoningShown) return;
    this.reasoningShown = true;
    const text = this.reasoning.value;
    this.reasoningBox.hidden = false;
    this.reasoningText.textContent = text;
    const words = text.split(/\s+/).filter((word) => word !== '').length;
    this.reasoningSize.textContent = `${String(words)} word${words === 1 ? '' : 's'}`;
  }
}
