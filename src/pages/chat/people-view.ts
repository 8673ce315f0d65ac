/**
 * Who is here and who is typing: the participants list (from `welcome` and `presence`) and the
 * typing line under the messages (from `typing_indicator`, the agent's included).
 */
import type { ServerFrame } from 'parley-engine/client';
import { h } from '../shared/dom.js';

type TypingFrame = Extract<ServerFrame, { type: 'typing_indicator' }>;

/** The participants list, the count in the header and the typing line. */
export class PeopleView {
  private readonly typing = new Map<string, string>();
  private me = '';

  constructor(
    private readonly list: HTMLElement,
    private readonly count: HTMLElement,
    private readonly typingLine: HTMLElement,
    private readonly agentName: () => string,
  ) {}

  /** Sets who this page is and who is here (`welcome.participants`, `presence.participants`). */
  participants(userIds: readonly string[], me = this.me): void {
    this.me = me;
    const users = [...new Set(userIds)].sort((a, b) =>
      a === me ? -1 : b === me ? 1 : a.localeCompare(b),
    );
    this.list.replaceChildren(
      ...users.map((user) =>
        h('li', { 'data-user-id': user, text: user === me ? `${user} (you)` : user }),
      ),
    );
    this.count.textContent = `${String(users.length)} here`;
    this.count.title = users.join(', ');
    for (const key of [...this.typing.keys()]) {
      if (key.startsWith('user:') && !users.includes(key.slice('user:'.length))) {
        this.typing.delete(key);
      }
    }
    this.render();
  }

  /** Applies a typing indicator; this page's own user is not shown typing. */
  typingIndicator(frame: TypingFrame): void {
    if (frame.actor === 'user' && frame.user_id === this.me) return;
    const key = frame.actor === 'agent' ? 'agent' : `user:${frame.user_id ?? '?'}`;
    if (frame.is_typing) {
      this.typing.set(
        key,
        frame.actor === 'agent' ? this.agentName() : (frame.user_id ?? 'someone'),
      );
    } else this.typing.delete(key);
    this.render();
  }

  /** A user's message or the agent's completion ends their typing. */
  stoppedTyping(actor: 'agent' | { userId: string }): void {
    this.typing.delete(actor === 'agent' ? 'agent' : `user:${actor.userId}`);
    this.render();
  }

  /** Forgets who was typing (the connection dropped: their indicators will not be stopped). */
  clearTyping(): void {
    this.typing.clear();
    this.render();
  }

  private render(): void {
    const names = [...this.typing.values()];
    const last = names.at(-1);
    this.typingLine.textContent =
      last === undefined
        ? ''
        : names.length === 1
          ? `${last} is typing…`
          : `${names.slice(0, -1).join(', ')} and ${last} are typing…`;
  }
}
