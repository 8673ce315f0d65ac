/**
 * The root of Parley's actor system. Every conversation and connection actor is its child, so
 * they share one system, one clock and one `inspect` hook, and each is registered under a
 * stable system id (`conversation:<id>`, `connection:<id>`) that the inspector can address.
 */
import { assign, enqueueActions, setup, stopChild, type AnyActorRef } from 'xstate';
import {
  connectionMachine,
  type ConnectionMachineInput,
  type SocketPort,
} from './connection.machine.js';
import { conversationMachine, type ConversationMachineInput } from './conversation.machine.js';

/** The stable system id of a conversation actor. */
export const conversationKey = (conversationId: string) => `conversation:${conversationId}`;
/** The stable system id of a connection actor. */
export const connectionKey = (connectionId: string) => `connection:${connectionId}`;

/** How the root builds its children's inputs. */
export interface ParleyMachineInput {
  conversationInput(conversationId: string): ConversationMachineInput;
  connectionInput(
    base: Pick<
      ConnectionMachineInput,
      'connectionId' | 'userId' | 'conversationId' | 'conversation' | 'socket' | 'since'
    >,
  ): ConnectionMachineInput;
}

/** Events of the root actor. */
export type ParleyEvent =
  | {
      type: 'connection.open';
      connectionId: string;
      userId: string;
      conversationId: string;
      socket: SocketPort;
      since?: number;
    }
  | { type: 'connection.closed'; connectionId: string }
  | { type: 'conversation.stopped'; conversationId: string }
  | { type: 'system.shutdown' };

/**
 * The root machine: spawns a conversation on first use and a connection per socket, and stops
 * each when it ends.
 *
 * @example
 * const root = createActor(parleyMachine, { input, clock, inspect }).start();
 * root.send({ type: 'connection.open', connectionId, userId, conversationId, socket });
 */
export const parleyMachine = setup({
  types: {
    context: {} as ParleyMachineInput,
    events: {} as ParleyEvent,
    input: {} as ParleyMachineInput,
  },
  actors: { conversation: conversationMachine, connection: connectionMachine },
}).createMachine({
  id: 'parley',
  context: ({ input }) => input,
  on: {
    'connection.open': {
      // `spawn` inside assign returns the refs synchronously: the connection needs its
      // conversation's ref as input. Nothing is stored in context; the refs live as children.
      actions: assign(({ context, event, spawn, system }) => {
        const key = conversationKey(event.conversationId);
        const existing = system.get(key) as AnyActorRef | undefined;
        // A conversation that just stopped for idleness may still be registered: replace it.
        const conversation =
          existing !== undefined &&
          (existing.getSnapshot() as { status: string }).status === 'active'
            ? existing
            : spawn('conversation', {
                id: key,
                systemId: key,
                input: context.conversationInput(event.conversationId),
              });
        spawn('connection', {
          id: connectionKey(event.connectionId),
          systemId: connectionKey(event.connectionId),
          input: context.connectionInput({
            connectionId: event.connectionId,
            userId: event.userId,
            conversationId: event.conversationId,
            conversation,
            socket: event.socket,
            ...(event.since === undefined ? {} : { since: event.since }),
          }),
        });
        return {};
      }),
    },
    'connection.closed': {
      actions: stopChild(({ event }) => connectionKey(event.connectionId)),
    },
    'conversation.stopped': {
      actions: stopChild(({ event }) => conversationKey(event.conversationId)),
    },
    'system.shutdown': {
      actions: enqueueActions(({ enqueue, self }) => {
        for (const child of Object.values(self.getSnapshot().children)) {
          if (child !== undefined) enqueue.stopChild(child);
        }
      }),
    },
  },
});
