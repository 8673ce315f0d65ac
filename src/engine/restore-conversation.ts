import {
  RECENT_MESSAGES,
  type RecentMessage,
  type RestoredConversation as Restored,
  type UnfinishedTurn,
} from '../../actors/conversation-state.js';
import type { ModelMessage } from '../agent/model.js';
import type { EventStore } from '../event-log/event-store.js';
import type { FrameEntry, RecordedAgent } from '../event-log/log-entry.js';
import { restoreAwaitedTurn } from './restore-approval.js';
import { ROLES, type Member, type Role } from '../../actors/membership.js';

/**
 * What a conversation gets back from its log after a restart, with the agent its first log entry
 * recorded (absent in logs from before agents).
 */
export type RestoredConversation = Restored & { agent?: RecordedAgent };

/** Longest answer read back for a turn a restart cut off. */
const MAX_PARTIAL_CHUNKS = 20_000;

/**
 * Reads a conversation's state back from its log: the last seq (so numbering continues without
 * a gap), the model context (recent user messages and answers), and the turns that had no
 * completion when the process stopped, with the text they had streamed; the first of those, when
 * it was waiting for approvals, waits on (`awaitingApproval`, its deadline read against `now`).
 * Undefined for a conversation the log has never seen.
 *
 * @example
 * const restored = await restoreConversation(store, 'demo', { historyMessages: 200 });
 */
export async function restoreConversation(
  store: EventStore,
  conversationId: string,
  { historyMessages, now = Date.now }: { historyMessages: number; now?: () => number },
): Promise<RestoredConversation | undefined> {
  const last = await store.lastPosition(conversationId);
  if (last === undefined) return undefined;
  // Every `conversation.started` repeats the first one's agent, so the oldest retained entry
  // has it even when retention dropped the very first.
  const [first] = await store.readEntries(conversationId, { limit: 1 });
  const agent =
    first?.kind === 'conversation.started'
      ? first.settings.agent
      : await oldestAgent(store, conversationId);
  const frames = await store.readFrames(conversationId, {
    before: last.seq + 1,
    limit: historyMessages * 2 + 20,
    types: ['user_message', 'agent_response_complete'],
  });
  const completions = new Map<string, FrameEntry['frame']>();
  for (const entry of frames) {
    if (entry.frame.type === 'agent_response_complete') {
      completions.set(String(entry.frame.turn_id), entry.frame);
    }
  }
  const history: ModelMessage[] = [];
  const unfinishedTurns: UnfinishedTurn[] = [];
  let awaitingApproval: Restored['awaitingApproval'];
  for (const entry of frames) {
    if (entry.frame.type !== 'user_message') continue;
    const turnId = String(entry.frame.turn_id);
    const completed = completions.has(turnId);
    // Turns run one at a time: only the first without a completion can have been waiting.
    if (!completed && unfinishedTurns.length === 0 && awaitingApproval === undefined) {
      awaitingApproval = await restoreAwaitedTurn(
        store,
        conversationId,
        entry,
        history.slice(-historyMessages),
        now(),
      );
      if (awaitingApproval !== undefined) continue;
    }
    history.push({
      role: 'user',
      content: String(entry.frame.content),
      userId: String(entry.frame.user_id),
    });
    const completion = completions.get(turnId);
    if (completion !== undefined) {
      history.push({ role: 'assistant', content: String(completion.content) });
      continue;
    }
    const partial = await partialAnswer(store, conversationId, turnId, entry.seq);
    unfinishedTurns.push({ turnId, ...partial });
    history.push({ role: 'assistant', content: partial.text });
  }
  const members = await readMembers(store, conversationId, last.seq);
  const recentMessages = await readRecentMessages(store, conversationId, last.seq);
  return {
    ...(agent === undefined ? {} : { agent }),
    seq: last.seq,
    ...(members === undefined ? {} : { members }),
    history: history.slice(-historyMessages),
    ...(recentMessages.length === 0 ? {} : { recentMessages }),
    unfinishedTurns,
    ...(awaitingApproval === undefined ? {} : { awaitingApproval }),
  };
}

/**
 * The member list of a conversation's newest `membership` frame (each carries the whole list),
 * or undefined when it has none: a conversation created before access control, or in `open`
 * mode by a join.
 *
 * @example
 * const members = await readMembers(store, 'demo', lastSeq);
 */
export async function readMembers(
  store: EventStore,
  conversationId: string,
  lastSeq: number,
): Promise<Member[] | undefined> {
  const [latest] = await store.readFrames(conversationId, {
    before: lastSeq + 1,
    limit: 1,
    types: ['membership'],
  });
  if (latest === undefined) return undefined;
  const listed = latest.frame.members;
  if (!Array.isArray(listed)) return [];
  return listed.flatMap((item: unknown) => {
    const { user_id: userId, role } = (item ?? {}) as { user_id?: unknown; role?: unknown };
    return typeof userId === 'string' && ROLES.includes(role as Role)
      ? [{ userId, role: role as Role }]
      : [];
  });
}

/**
 * The conversation's last `RECENT_MESSAGES` user messages, as a live conversation keeps them for
 * idempotent resends (a conversation restored or woken refuses the same resends as one that ran on).
 */
async function readRecentMessages(
  store: EventStore,
  conversationId: string,
  lastSeq: number,
): Promise<RecentMessage[]> {
  const frames = await store.readFrames(conversationId, {
    before: lastSeq + 1,
    limit: RECENT_MESSAGES,
    types: ['user_message'],
  });
  return frames.map(({ seq, frame }) => ({
    seq,
    userId: String(frame.user_id),
    ...(typeof frame.client_message_id === 'string'
      ? { clientMessageId: frame.client_message_id }
      : {}),
  }));
}

async function partialAnswer(
  store: EventStore,
  conversationId: string,
  turnId: string,
  afterSeq: number,
): Promise<Omit<UnfinishedTurn, 'turnId'>> {
  const chunks = await store.readFrames(conversationId, {
    after: afterSeq,
    limit: MAX_PARTIAL_CHUNKS,
    types: ['agent_response_chunk'],
  });
  const own = chunks.filter((entry) => entry.frame.turn_id === turnId);
  return {
    agentMessageId: own[0] === undefined ? null : String(own[0].frame.message_id),
    text: own.map((entry) => String(entry.frame.delta)).join(''),
  };
}

/** The agent of the oldest retained `conversation.started`, when retention cut the first entry. */
async function oldestAgent(
  store: EventStore,
  conversationId: string,
): Promise<RecordedAgent | undefined> {
  let afterPosition = 0;
  for (;;) {
    const page = await store.readEntries(conversationId, { afterPosition, limit: 500 });
    if (page.length === 0) return undefined;
    for (const entry of page) {
      if (entry.kind === 'conversation.started') return entry.settings.agent;
    }
    afterPosition = page.at(-1)?.position ?? afterPosition;
  }
}
