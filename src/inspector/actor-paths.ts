/**
 * How the inspector names and arranges actors: each actor's stable path and kind, the
 * conversation a connection belongs to, the order of the actor list (each conversation followed
 * by its connections), and hibernated connections: how to tell one, how to reach one.
 */
import type { AnyActorRef } from 'xstate';
import {
  hibernatesIn,
  sendToConnection,
  shardKey,
  shardOf,
  type ConnectionShardRef,
} from '../../actors/connection-shard.machine.js';
import type { ConnectionEvent } from '../../actors/connection-types.js';
import { compareConversations } from './actor-activity.js';
import type { ActorSummary } from './inspector-protocol.js';

/** What the inspector reads of an actor's snapshot. */
export type InspectedSnapshot = { value?: unknown; status?: string; context?: unknown } | undefined;

/**
 * The stable path of an actor; the root (which XState gives a per-process id) is `parley`. A
 * connection shard is the root's plumbing, so where one shows up (as the source of the event that
 * starts a connection) it reads as `parley`, the parent the inspector gives every connection;
 * the hub records nothing of the shard itself.
 *
 * @example
 * pathOf(root.system.get('connection:c1')) // 'connection:c1'
 */
export function pathOf(ref: AnyActorRef): string {
  const path = (ref as { systemId?: string }).systemId ?? ref.id;
  return path.startsWith('conversation:') || path.startsWith('connection:') ? path : 'parley';
}

/**
 * The kind of actor at a path.
 *
 * @example
 * kindOf('connection:c1') // 'connection'
 */
export function kindOf(path: string): ActorSummary['kind'] {
  if (path.startsWith('conversation:')) return 'conversation';
  if (path.startsWith('connection:')) return 'connection';
  return 'root';
}

/**
 * The path of a connection's conversation, from its context; null for other actors.
 *
 * @example
 * conversationOf('connection:c1', snapshot) // 'conversation:demo'
 */
export function conversationOf(path: string, snapshot: InspectedSnapshot): string | null {
  if (!path.startsWith('connection:')) return null;
  const id = (snapshot?.context as { conversationId?: string } | undefined)?.conversationId;
  return id === undefined ? null : `conversation:${id}`;
}

/**
 * The user a connection speaks for, from its context; null for other actors.
 *
 * @example
 * userOf('connection:c1', snapshot) // 'alice'
 */
export function userOf(path: string, snapshot: InspectedSnapshot): string | null {
  if (!path.startsWith('connection:')) return null;
  const id = (snapshot?.context as { userId?: unknown } | undefined)?.userId;
  return typeof id === 'string' ? id : null;
}

/**
 * Whether a connection's or a conversation's actor ended in its state `hibernated`: its shard
 * (or the engine, for a conversation) keeps what it needs, and a new actor takes its path when
 * it wakes (`actors/connection.machine.ts`, "Hibernation"; `actors/conversation.machine.ts`).
 *
 * @example
 * isHibernated('connection:c1', { status: 'done', value: 'hibernated' }) // true
 */
export function isHibernated(path: string, snapshot: InspectedSnapshot): boolean {
  const kind = kindOf(path);
  return (
    (kind === 'connection' || kind === 'conversation') &&
    (snapshot?.status === 'done' || snapshot?.status === 'stopped') &&
    snapshot.value === 'hibernated'
  );
}

/**
 * The actor list: the root, then conversations busiest first (`compareConversations`: a turn
 * running, then someone connected, then idle; by path within each), each followed by its connections;
 * `filter` keeps the actors whose path contains it (and a conversation one of whose connections
 * does, with them).
 *
 * @example
 * listOrder(summaries, 'demo') // [conversation:demo, connection:c1, connection:c2]
 */
export function listOrder(summaries: Iterable<ActorSummary>, filter: string): ActorSummary[] {
  const needle = filter.toLowerCase();
  const conversations: ActorSummary[] = [];
  const byConversation = new Map<string, ActorSummary[]>();
  const others: ActorSummary[] = [];
  for (const summary of summaries) {
    if (summary.kind === 'conversation') conversations.push(summary);
    else if (summary.kind === 'connection' && summary.conversation !== null) {
      const list = byConversation.get(summary.conversation) ?? [];
      list.push(summary);
      byConversation.set(summary.conversation, list);
    } else others.push(summary);
  }
  const matches = (summary: ActorSummary) => summary.path.toLowerCase().includes(needle);
  const ordered: ActorSummary[] = others.filter((summary) => needle === '' || matches(summary));
  for (const conversation of conversations.sort(compareConversations)) {
    const connections = byConversation.get(conversation.path) ?? [];
    if (needle === '' || matches(conversation) || connections.some(matches)) {
      ordered.push(conversation, ...connections.sort((a, b) => a.path.localeCompare(b.path)));
    }
  }
  return ordered;
}

/**
 * Sends an event to a hibernated connection: its shard wakes it for the event (or, for a pong,
 * just resets its missed pongs). False when its shard no longer holds it.
 *
 * @example
 * sendToHibernated(root.system, 'connection:c1', { type: 'server.shutdown' }) // true
 */
export function sendToHibernated(
  system: AnyActorRef['system'],
  path: string,
  event: { type: string },
): boolean {
  const connectionId = path.slice('connection:'.length);
  const shard = system.get(shardKey(shardOf(connectionId))) as ConnectionShardRef | undefined;
  if (shard === undefined || !hibernatesIn(shard, connectionId)) {
    return false;
  }
  sendToConnection(system, connectionId, event as ConnectionEvent);
  return true;
}
