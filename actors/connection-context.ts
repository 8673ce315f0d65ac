/**
 * A connection actor's context, and what its shard keeps of a hibernated connection
 * (`connection.machine.ts`, "Hibernation").
 */
import type { ConnectionContext, ConnectionMachineInput } from './connection-types.js';

/** A slow consumer's grace between its 1013 close frame and termination, unless configured. */
export const SLOW_CONSUMER_GRACE_MS = 1_000;

/** Shared by every connection without strikes (`strike` makes a new array). */
const NO_STRIKES: readonly number[] = Object.freeze([]);

/**
 * A connection's context from its input, every field in one literal so that all are in-object:
 * an idle connection keeps this object while it hibernates, and a context that went through
 * `assign` holds most of its fields in a separate property array (~0.1 KiB more). A woken
 * connection's input is its hibernated context, whose values win over the defaults.
 *
 * @example
 * connectionContext({ connectionId: 'c1', userId: 'alice', conversationId: 'demo', ... })
 */
export function connectionContext(input: ConnectionMachineInput): ConnectionContext {
  return {
    connectionId: input.connectionId,
    userId: input.userId,
    conversationId: input.conversationId,
    socket: input.socket,
    effects: input.effects,
    since: input.since,
    role: input.role,
    readOnly: input.readOnly,
    maxMissedPongs: input.maxMissedPongs ?? 2,
    slowConsumerGraceMs: input.slowConsumerGraceMs ?? SLOW_CONSUMER_GRACE_MS,
    maxStrikes: input.maxStrikes ?? 10,
    hibernateAfterMs: input.hibernateAfterMs ?? 0,
    missedPongs: input.missedPongs ?? 0,
    strikes: input.strikes ?? NO_STRIKES,
    closeCode: input.closeCode ?? 1000,
    closeReason: input.closeReason ?? '',
    lastFrameAt: input.lastFrameAt ?? input.effects.now(),
    hibernations: input.hibernations ?? 0,
  };
}
