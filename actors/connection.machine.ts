/**
 * Over 300 lines because the statechart is one object: splitting it would hide transitions from
 * the reader (its replies and context helpers already live in files of their own).
 *
 * The connection actor: one per socket. It joins its conversation, forwards the client's frames
 * to it, answers pings, pings its socket on each heartbeat tick of its shard (and terminates it
 * after too many unanswered pings), enforces the per-user rate and
 * the abuse limit, and closes the socket with the right code when something ends it.
 *
 * Hibernation: a joined connection that has had no frame but `ping` from its client for
 * `hibernateAfterMs` ends in the state `hibernated` at its next heartbeat tick and hands its
 * context to its shard. The socket stays open; the shard answers its heartbeat and spawns a new
 * actor from that context (starting in `open.joined`, without joining again) on the next event
 * for it. Most chat connections are idle most of the time; an idle one then costs its context
 * (`connection-context.ts`), not an actor.
 */
import {
  assign,
  enqueueActions,
  raise,
  sendParent,
  sendTo,
  setup,
  type ActorRefFrom,
  type AnyActorRef,
} from 'xstate';
import type { CloseCode, ErrorCode } from '../src/errors.js';
import { closeCodeOf, toConversationRequest } from './connection-replies.js';
import { connectionContext } from './connection-context.js';
import type {
  ConnectionContext,
  ConnectionEvent,
  ConnectionMachineInput,
} from './connection-types.js';
import { tickVerdict } from './heartbeat.js';
import type { ConversationInput } from './conversation-state.js';
import { conversationKey, conversationShardKey } from './system-ids.js';

export type * from './connection-types.js';

const STRIKE_WINDOW_MS = 60_000;

/** The part of an actor system a connection needs: look an actor up by system id. */
interface ActorLookup {
  get(systemId: string): unknown;
}

/**
 * Where a request to the conversation goes: to its actor when it runs, else to its shard, which
 * wakes it if it hibernates (see {@link toConversation}) and drops it if it is gone.
 */
function conversationOf(context: ConnectionContext, system: ActorLookup): AnyActorRef {
  return (system.get(conversationKey(context.conversationId)) ??
    system.get(conversationShardKey(context.conversationId))) as AnyActorRef;
}

/** A request as {@link conversationOf}'s target takes it: as is, or wrapped for the shard. */
function toConversation(
  context: ConnectionContext,
  system: ActorLookup,
  request: ConversationInput,
):
  | ConversationInput
  | { type: 'conversation.deliver'; conversationId: string; event: ConversationInput } {
  if (system.get(conversationKey(context.conversationId)) !== undefined) return request;
  return { type: 'conversation.deliver', conversationId: context.conversationId, event: request };
}
export { SLOW_CONSUMER_GRACE_MS } from './connection-context.js';

/** The connection machine's effects and data changes, each a named action. */
const connectionSetup = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionMachineInput,
  },
  actions: {
    // Requests to the conversation: XState sends them after this step, as data in `transition()`.
    join: sendTo(
      ({ context, system }) => conversationOf(context, system),
      ({ context, system }) =>
        toConversation(context, system, {
          type: 'participant.join',
          connectionId: context.connectionId,
          userId: context.userId,
          ...(context.since === undefined ? {} : { since: context.since }),
          ...(context.role === undefined ? {} : { role: context.role }),
          ...(context.readOnly === undefined ? {} : { readOnly: context.readOnly }),
        }),
    ),
    leave: sendTo(
      ({ context, system }) => conversationOf(context, system),
      ({ context, system }) =>
        toConversation(context, system, {
          type: 'participant.leave',
          connectionId: context.connectionId,
        }),
    ),
    forward: sendTo(
      ({ context, system }) => conversationOf(context, system),
      ({ context, event, system }) => {
        if (event.type !== 'frame.received') throw new Error('forward expects frame.received');
        return toConversation(context, system, toConversationRequest(context, event.frame));
      },
    ),
    resume: ({ context, event }) => {
      if (event.type !== 'frame.received' || event.frame.type !== 'resume') return;
      context.effects.resume(context.connectionId, event.frame.since);
    },
    history: ({ context, event }) => {
      if (event.type !== 'frame.received' || event.frame.type !== 'history') return;
      context.effects.history(context.connectionId, event.frame);
    },
    replyPong: ({ context, event }) => {
      if (event.type !== 'frame.received' || event.frame.type !== 'ping') return;
      const id = event.frame.id;
      context.effects.reply(context.connectionId, {
        type: 'pong',
        ...(id === undefined ? {} : { id }),
      });
    },
    replyError: (
      { context },
      params: { code: ErrorCode; message: string; inReplyTo?: string; extra?: object },
    ) => {
      context.effects.reply(context.connectionId, {
        type: 'error',
        code: params.code,
        message: params.message,
        ...(params.inReplyTo === undefined ? {} : { in_reply_to: params.inReplyTo }),
        ...params.extra,
      });
    },
    strike: assign({
      strikes: ({ context }) => [
        ...context.strikes.filter((at) => at > context.effects.now() - STRIKE_WINDOW_MS),
        context.effects.now(),
      ],
    }),
    setClose: assign((_, params: { code: CloseCode; reason: string }) => ({
      closeCode: params.code,
      closeReason: params.reason,
    })),
    closeSocket: ({ context }) => {
      context.socket.close(context.closeCode, context.closeReason);
    },
    terminateSocket: ({ context }) => {
      context.socket.terminate();
    },
    ping: ({ context }) => {
      context.socket.ping();
    },
    countMissedPong: assign({ missedPongs: ({ context }) => context.missedPongs + 1 }),
    resetMissedPongs: assign({ missedPongs: 0 }),
    notifyClosed: sendParent(({ context }) => ({
      type: 'connection.closed',
      connectionId: context.connectionId,
    })),
    touch: assign({ lastFrameAt: ({ context }) => context.effects.now() }),
    countHibernation: assign({ hibernations: ({ context }) => context.hibernations + 1 }),
    handOver: sendParent(({ context }) => ({ type: 'connection.hibernated', context })),
  },
  guards: {
    tooManyStrikes: ({ context }) => context.strikes.length >= context.maxStrikes,
    tooManyMissedPongs: ({ context }) =>
      tickVerdict(context, context.effects.now()) === 'terminate',
    isPing: ({ event }) => event.type === 'frame.received' && event.frame.type === 'ping',
    isResume: ({ event }) => event.type === 'frame.received' && event.frame.type === 'resume',
    isHistory: ({ event }) => event.type === 'frame.received' && event.frame.type === 'history',
    quietLongEnough: ({ context }) => tickVerdict(context, context.effects.now()) === 'hibernate',
    woken: ({ context }) => context.hibernations > 0,
    /** An invalid frame whose error code closes the socket (invalid JSON, binary data). */
    closesSocket: ({ event }) => event.type === 'frame.invalid' && closeCodeOf(event.code) !== 1000,
  },
  delays: {
    closeHandshake: 5_000,
    /**
     * How long a slow consumer has to read what is queued and the 1013 close frame behind it
     * before its socket is terminated (docs/WEBSOCKET_API.md, "Limits").
     */
    slowConsumerGrace: ({ context }) => context.slowConsumerGraceMs,
    handshakeTimeout: 10_000,
  },
});

/**
 * Forwards a frame to the conversation; a `user_message` first takes a token from the user's
 * rate budget. The budget is an effect (a token bucket shared by the user's connections), so it
 * is taken here, once, rather than in a guard that may be evaluated twice.
 */
const forwardWithinRate = connectionSetup.createAction(
  enqueueActions(({ context, event, enqueue }) => {
    if (event.type !== 'frame.received') return;
    enqueue('touch');
    if (event.frame.type === 'user_message') {
      const verdict = context.effects.takeRateToken(context.userId);
      if (!verdict.allowed) {
        enqueue('strike');
        enqueue({
          type: 'replyError',
          params: {
            code: 'rate_limited',
            message: `Too many messages; try again in ${verdict.retryAfterMs} ms.`,
            inReplyTo: 'user_message',
            extra: { details: { retry_after_ms: verdict.retryAfterMs } },
          },
        });
        enqueue.raise({ type: 'strikes.check' });
        return;
      }
      // Not a strike: the user did nothing wrong, they have used what they were given.
      const budget = context.effects.checkBudget?.(context.userId);
      if (budget?.allowed === false) {
        enqueue({
          type: 'replyError',
          params: {
            code: 'budget_exceeded',
            message: `Your token budget for this period is spent; try again in ${budget.retryAfterMs} ms.`,
            inReplyTo: 'user_message',
            extra: { details: { retry_after_ms: budget.retryAfterMs } },
          },
        });
        return;
      }
    }
    enqueue('forward');
  }),
);

/** The connection machine. */
export const connectionMachine = connectionSetup
  .extend({ actions: { forwardWithinRate } })
  .createMachine({
    id: 'connection',
    context: ({ input }) => connectionContext(input),
    initial: 'open',
    on: {
      'socket.closed': '.closed',
      'socket.pong': { actions: 'resetMissedPongs' },
    },
    states: {
      open: {
        initial: 'starting',
        on: {
          'frame.received': [
            // A `ping` frame is a keep-alive, not activity: it does not put off hibernation.
            { guard: 'isPing', actions: 'replyPong' },
            { guard: 'isResume', actions: ['touch', 'resume'] },
            { guard: 'isHistory', actions: ['touch', 'history'] },
            { actions: 'forwardWithinRate' },
          ],
          'frame.invalid': [
            {
              guard: 'closesSocket',
              target: '#connection.closing',
              actions: [
                {
                  type: 'replyError',
                  params: ({ event }) => ({ code: event.code, message: event.message }),
                },
                {
                  type: 'setClose',
                  params: ({ event }) => ({ code: closeCodeOf(event.code), reason: event.code }),
                },
              ],
            },
            {
              actions: [
                'touch',
                'strike',
                {
                  type: 'replyError',
                  params: ({ event }) => ({
                    code: event.code,
                    message: event.message,
                    ...(event.issues === undefined ? {} : { extra: { issues: event.issues } }),
                  }),
                },
                raise({ type: 'strikes.check' }),
              ],
            },
          ],
          // The close frame goes out behind the frames already queued: a client that reads
          // again within the grace gets them and the 1013; one that does not is terminated.
          'outbound.overflow': {
            target: '#connection.draining',
            actions: { type: 'setClose', params: { code: 1013, reason: 'slow_consumer' } },
          },
          'server.shutdown': {
            target: '#connection.closing',
            actions: { type: 'setClose', params: { code: 1012, reason: 'server_shutdown' } },
          },
          'strikes.check': {
            guard: 'tooManyStrikes',
            target: '#connection.closing',
            actions: {
              type: 'setClose',
              params: { code: 1008, reason: 'policy_violation' },
            },
          },
        },
        states: {
          // A new connection joins its conversation; a woken one has joined already.
          starting: {
            always: [{ guard: 'woken', target: 'joined' }, { target: 'handshake' }],
          },
          handshake: {
            entry: 'join',
            // The conversation answers a join at once in-process; a silent one is a fault.
            after: {
              handshakeTimeout: {
                target: '#connection.closing',
                actions: { type: 'setClose', params: { code: 1011, reason: 'internal_error' } },
              },
            },
            on: {
              'conversation.joined': 'joined',
              'conversation.rejected': {
                target: '#connection.closing',
                actions: [
                  {
                    type: 'replyError',
                    params: ({ event }) => ({ code: event.code, message: event.message }),
                  },
                  {
                    type: 'setClose',
                    params: ({ event }) => ({
                      code: closeCodeOf(event.code),
                      reason: event.code,
                    }),
                  },
                ],
              },
            },
          },
          joined: {
            // Sent by the connection's shard once per heartbeat interval (connection-shard.machine.ts).
            on: {
              'heartbeat.tick': [
                {
                  guard: 'tooManyMissedPongs',
                  target: '#connection.closed',
                  actions: 'terminateSocket',
                },
                {
                  guard: 'quietLongEnough',
                  target: '#connection.hibernated',
                  actions: ['ping', 'countMissedPong'],
                },
                { actions: ['ping', 'countMissedPong'] },
              ],
            },
          },
        },
      },
      closing: {
        entry: 'closeSocket',
        after: { closeHandshake: { target: 'closed', actions: 'terminateSocket' } },
      },
      draining: {
        entry: 'closeSocket',
        after: { slowConsumerGrace: { target: 'closed', actions: 'terminateSocket' } },
      },
      // `closed` and `hibernated` end the actor; the shard stops it when told. Not `type: 'final'`:
      // XState memoizes candidates per event type, and `xstate.done.actor.connection:<id>` is a new
      // type per connection (~180 bytes each kept in the shard machine for good). Upstream issue
      // draft: docs/UPSTREAM.md, "1. Transition candidates are memoized per event type".
      closed: {
        entry: ['leave', 'notifyClosed'],
      },
      // The socket stays open: the shard keeps this context and wakes a new actor from it.
      hibernated: {
        entry: ['countHibernation', 'handOver'],
      },
    },
  });

/** A running connection actor. */
export type ConnectionActorRef = ActorRefFrom<typeof connectionMachine>;
