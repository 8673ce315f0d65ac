/**
 * The conversation as a list: participants' messages (plain text), agent turns (reasoning, tool
 * cards and a Markdown answer) and the page's own notices, ordered by `seq`. Live events arrive at the end;
 * history pages arrive older than anything shown, so every item is placed by its seq and both go
 * through the same {@link MessageList.apply}. Rendering the Markdown of changed answers waits for
 * {@link MessageList.flush}, so a history page full of chunks renders each answer once.
 */
import type { ConversationEventFrame } from 'parley-engine/client';
import { h } from '../shared/dom.js';
import { AgentTurn } from './agent-turn.js';
import type { AnswerApproval } from './approval-box.js';
import { timeElement } from './format.js';
import type { ToolCard } from './tool-card.js';

type UserMessageFrame = Extract<ConversationEventFrame, { type: 'user_message' }>;
/** The frames about one tool call. */
type ToolCallFrame = Extract<ConversationEventFrame, { tool_call_id: string; turn_id: string }>;

/** Who is reading and who answers, as known when a frame is shown. */
export interface Identity {
  /** The user id of this page's connection. */
  me: () => string;
  /** The name the agent goes by (from `welcome.agent`, else `agent`). */
  agentName: () => string;
  /** Sends this page's answer to a tool call that waits for approval. */
  answerApproval: AnswerApproval;
}

/** The message list of one conversation. */
export class MessageList {
  private readonly turns = new Map<string, AgentTurn>();
  private readonly changed = new Set<AgentTurn>();
  private readonly seen = new Set<number>();
  private lastSeq = 0;
  private firstSeq: number | undefined;

  /** @param container the list element (`data-testid="messages"`) */
  constructor(
    private readonly container: HTMLElement,
    private readonly identity: Identity,
  ) {}

  /** Shows one conversation event; presence and typing are shown elsewhere. */
  apply(frame: ConversationEventFrame): void {
    if (this.seen.has(frame.seq)) return;
    this.seen.add(frame.seq);
    this.lastSeq = Math.max(this.lastSeq, frame.seq);
    this.firstSeq = Math.min(this.firstSeq ?? frame.seq, frame.seq);
    switch (frame.type) {
      case 'user_message':
        this.place(this.userMessage(frame), frame.seq);
        return;
      case 'tool_call_delta':
        this.card(frame).argumentsDelta(frame);
        return;
      case 'tool_call':
        this.card(frame).call(frame);
        return;
      case 'tool_result':
        this.card(frame).result(frame);
        return;
      case 'tool_approval_request':
        this.card(frame).approvalRequest(frame, this.identity.answerApproval);
        return;
      case 'tool_approval_decision':
        this.card(frame).approvalDecision(frame);
        return;
      case 'agent_reasoning_chunk':
        this.turn(frame).reasoningChunk(frame);
        return;
      case 'agent_response_chunk':
        this.turn(frame).chunk(frame.delta);
        return;
      case 'agent_response_complete':
        this.turn(frame).complete(frame);
        return;
      case 'membership':
      case 'presence':
      case 'typing_indicator':
        return;
    }
  }

  /** Renders the answers changed since the last flush; returns whether anything changed. */
  flush(): boolean {
    let any = false;
    for (const turn of this.changed) any = turn.render() || any;
    this.changed.clear();
    return any;
  }

  /** A notice from the page itself (connection lost, an error), after everything shown so far. */
  notice(text: string, tone: 'info' | 'error' = 'info'): void {
    const element = h('p', {
      class: `notice ${tone}`,
      'data-testid': 'notice',
      role: tone === 'error' ? 'alert' : 'status',
      text,
    });
    this.place(element, this.lastSeq + 0.5);
  }

  /** The lowest seq shown, or undefined when nothing is. */
  get oldestSeq(): number | undefined {
    return this.firstSeq;
  }

  private userMessage(frame: UserMessageFrame): HTMLElement {
    const own = frame.user_id === this.identity.me();
    return h(
      'article',
      {
        class: own ? 'message user own' : 'message user',
        'data-testid': 'user-message',
        'data-user-id': frame.user_id,
        'aria-label': `${own ? 'your' : `${frame.user_id}'s`} message`,
      },
      h(
        'header',
        {},
        h('span', { class: 'author', text: own ? 'you' : frame.user_id }),
        h('span', { class: 'meta' }, timeElement(frame.timestamp)),
      ),
      h('div', { class: 'text', text: frame.content }),
    );
  }

  /** The turn a frame belongs to, made on first sight and moved up if an earlier frame shows. */
  private turn(frame: ConversationEventFrame & { turn_id: string }): AgentTurn {
    let turn = this.turns.get(frame.turn_id);
    if (turn === undefined) {
      turn = new AgentTurn(frame.turn_id, this.identity.agentName());
      this.turns.set(frame.turn_id, turn);
    }
    const key = Number(turn.element.dataset.seq ?? Infinity);
    if (frame.seq < key) this.place(turn.element, frame.seq);
    turn.startedAt(frame.timestamp);
    this.changed.add(turn);
    return turn;
  }

  /** The card of the tool call a frame is about, in its turn. */
  private card(frame: ToolCallFrame): ToolCard {
    return this.turn(frame).card(frame.tool_call_id, frame.tool_name, frame.seq);
  }

  /** Inserts (or moves) an element after every item with a seq up to `key`. */
  private place(element: HTMLElement, key: number): void {
    element.dataset.seq = String(key);
    let before: Element | null = null;
    for (
      let child = this.container.lastElementChild;
      child !== null;
      child = child.previousElementSibling
    ) {
      if (child !== element && Number((child as HTMLElement).dataset.seq) <= key) break;
      if (child !== element) before = child;
    }
    this.container.insertBefore(element, before);
  }
}
