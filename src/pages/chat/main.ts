/**
 * The chat page's entry point, bundled by esbuild into `/chat/chat.js`: reads which conversation
 * to open from the URL, joins it at once, shows its past and everything that happens in it, and
 * wires the composer and the settings.
 */
import type { ConversationEventFrame, WelcomeFrame } from 'parley-engine/client';
import { byId, byTestId } from '../shared/dom.js';
import { ChatSession, type ConnectionState } from './chat-session.js';
import { readSettings, settingsUrl, storeToken } from './chat-settings.js';
import { Composer } from './composer.js';
import { MessageList } from './message-list.js';
import { PeopleView } from './people-view.js';
import { ScrollFollow } from './scroll-follow.js';

/** A welcome that may name the agent and its model (sent by servers that know them). */
type Welcome = WelcomeFrame;

const { settings, problem } = readSettings();
let me = settings.userId;
let agentName = 'agent';
const activeTurns = new Set<string>();

const list = new MessageList(byTestId('messages'), {
  me: () => me,
  agentName: () => agentName,
  answerApproval: (toolCallId, decision, reason) =>
    session.answerApproval(toolCallId, decision, reason),
});
const people = new PeopleView(
  byTestId('participants'),
  byTestId('people-count'),
  byTestId('typing'),
  () => agentName,
);
const loadOlder = byTestId('load-older', HTMLButtonElement);
const session = new ChatSession(settings, {
  onState: showState,
  onWelcome: welcomed,
  onEvent: (frame) => {
    event(frame);
    list.flush();
    follow.settle();
  },
  onHistory: (frames, hasMore) => {
    follow.keepPosition(() => {
      for (const frame of frames) list.apply(frame);
      list.flush();
    });
    loadOlder.hidden = !hasMore;
    byTestId('history-start').hidden = hasMore;
    // Until the list fills the screen, there is nothing to scroll up through: fetch more now.
    if (hasMore && follow.needsMoreAbove) requestOlder();
  },
  onNotice: (text, tone) => {
    list.notice(text, tone);
    follow.settle();
  },
});
const follow = new ScrollFollow(
  byTestId('scroller'),
  byTestId('jump-latest', HTMLButtonElement),
  requestOlder,
);
const composer = new Composer(
  byId('composer', HTMLFormElement),
  byTestId('message-input', HTMLTextAreaElement),
  byTestId('send', HTMLButtonElement),
  byTestId('cancel', HTMLButtonElement),
  {
    send: (content) => session.send(content),
    cancel: () => {
      session.cancel();
    },
    typing: (isTyping) => {
      session.typing(isTyping);
    },
  },
);

function requestOlder(): void {
  const oldest = list.oldestSeq;
  if (oldest !== undefined) void session.loadOlder(oldest);
}

function setTurn(turnId: string | null | undefined, running: boolean): void {
  if (turnId === null || turnId === undefined) return;
  if (running) activeTurns.add(turnId);
  else activeTurns.delete(turnId);
  composer.setTurnRunning(activeTurns.size > 0);
}

function welcomed(welcome: Welcome, rejoined: boolean): void {
  me = welcome.user_id;
  // The agent that answers here and its model (`openai-compatible:llama3.2:1b`, `offline`).
  const agent = welcome.agent?.id;
  const model = welcome.agent?.model;
  agentName = agent ?? 'agent';
  const agentInfo = byTestId('agent-info');
  agentInfo.hidden = agent === undefined && model === undefined;
  agentInfo.textContent = [agent, model].filter((part) => part !== undefined).join(' · ');
  byTestId('identity').textContent = `you are ${me}`;
  byTestId('seq').textContent = String(welcome.seq);
  people.participants(welcome.participants, me);
  activeTurns.clear();
  setTurn(welcome.active_turn_id, true);
  if (!rejoined) composer.focus();
}

/** A live conversation event: the list, and what it says about people and turns. */
function event(frame: ConversationEventFrame): void {
  byTestId('seq').textContent = String(frame.seq);
  list.apply(frame);
  switch (frame.type) {
    case 'presence':
      people.participants(frame.participants);
      return;
    case 'typing_indicator':
      people.typingIndicator(frame);
      if (frame.actor === 'agent' && frame.is_typing) setTurn(frame.turn_id, true);
      return;
    case 'user_message':
      people.stoppedTyping({ userId: frame.user_id });
      setTurn(frame.turn_id, true);
      return;
    case 'agent_response_complete':
      people.stoppedTyping('agent');
      setTurn(frame.turn_id, false);
      return;
    case 'tool_call':
    case 'tool_call_delta':
    case 'agent_reasoning_chunk':
    case 'membership':
    case 'tool_result':
    case 'tool_approval_request':
    case 'tool_approval_decision':
    case 'agent_response_chunk':
      return;
  }
}

const STATE_WORDS: Record<ConnectionState, string> = {
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  offline: 'offline',
  signin: 'sign-in needed',
};

function showState(state: ConnectionState, detail: string): void {
  const status = byTestId('status');
  status.dataset.state = state;
  status.textContent = STATE_WORDS[state];
  const detailLine = byTestId('connection-detail');
  detailLine.textContent = detail;
  detailLine.title = detail;
  composer.setEnabled(state === 'connected');
  if (state !== 'connected') people.clearTyping();
  if (state === 'signin') {
    const panel = byTestId('settings', HTMLDetailsElement);
    panel.open = true;
    byId('token', HTMLInputElement).focus();
  }
}

function wireSettings(): void {
  const conversation = byId('conversation', HTMLInputElement);
  const user = byId('user', HTMLInputElement);
  const token = byId('token', HTMLInputElement);
  conversation.value = settings.conversationId;
  user.value = settings.userId;
  token.value = settings.token;
  byId('settings-form', HTMLFormElement).addEventListener('submit', (submitted) => {
    submitted.preventDefault();
    storeToken(token.value.trim());
    // A new page for the new settings: a clean list, and a link that says what is open.
    location.assign(
      settingsUrl({
        conversationId: conversation.value.trim(),
        userId: user.value.trim() || settings.userId,
      }),
    );
  });
}

byTestId('conversation-title').textContent = settings.conversationId;
document.title = `${settings.conversationId} · Parley chat`;
byTestId('identity').textContent = `joining as ${settings.userId}`;
loadOlder.addEventListener('click', requestOlder);
wireSettings();
if (problem !== undefined) list.notice(problem, 'error');
void session.start();
