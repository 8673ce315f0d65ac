/**
 * The conversation API's writes in cluster mode (`POST /api/conversations`, `PUT` and `DELETE`
 * of a member): only the conversation's owner may append to its log, so an instance that does
 * not own the conversation forwards the change to the owner's inbox and waits for the owner's
 * reply in its own inbox. These are the requests and replies, and the waits for them.
 */
import type { Member, MemberChange, MembershipAction } from '../../actors/membership.js';
import type { Engine } from '../engine/engine-types.js';
import { ERROR_CODE_NAMES, ParleyError, type ErrorCode } from '../errors.js';

/** A change to a conversation that its owner makes. */
export interface MembershipRequest {
  type: 'membership';
  change: { by: string; action: MembershipAction; changes: MemberChange[] };
  /** The agent of a conversation this change creates. */
  agent?: string;
}

/** What the owner answers: the members after the change, or the error it met. */
export type RequestReply =
  { ok: true; members: Member[] } | { ok: false; code: ErrorCode; message: string };

/**
 * Makes the change in this instance's engine (the owner's) and answers with the members once the
 * log has it. A change whose entries the log dropped because another instance fenced the
 * conversation off is answered `cluster_unavailable`, never as done.
 */
export async function runMembershipRequest(
  engine: Pick<Engine, 'changeMembership' | 'log'>,
  conversationId: string,
  request: MembershipRequest,
): Promise<RequestReply> {
  try {
    const members = await engine.changeMembership(
      conversationId,
      request.change,
      request.agent === undefined ? {} : { agent: request.agent },
    );
    if (engine.log.isFenced(conversationId)) {
      return refusal(
        new ParleyError(
          'cluster_unavailable',
          `Conversation ${conversationId} moved to another instance before the change was logged; it was not made. Send it again.`,
        ),
      );
    }
    return { ok: true, members };
  } catch (error) {
    return refusal(error);
  }
}

/** The reply for an error: its own code when it is a ParleyError, `internal_error` otherwise. */
export function refusal(error: unknown): RequestReply {
  if (error instanceof ParleyError) return { ok: false, code: error.code, message: error.message };
  return { ok: false, code: 'internal_error', message: 'The change failed on its owner.' };
}

/** The members of a reply, or its error thrown as a {@link ParleyError}. */
export function membersOf(reply: RequestReply): Member[] {
  if (reply.ok) return reply.members;
  throw new ParleyError(reply.code, reply.message);
}

/** A reply read from another instance's record, or undefined when it is not one. */
export function readReply(value: unknown): RequestReply | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const reply = value as Record<string, unknown>;
  if (reply.ok === true && Array.isArray(reply.members)) return reply as RequestReply;
  if (
    reply.ok === false &&
    typeof reply.message === 'string' &&
    (ERROR_CODE_NAMES as readonly string[]).includes(String(reply.code))
  ) {
    return reply as RequestReply;
  }
  return undefined;
}

/**
 * Requests forwarded to an owner and not answered yet, by request id. A request without a reply
 * within `timeoutMs` fails with `cluster_unavailable`: the owner died or let the conversation go,
 * and the change may or may not have been made (the log tells).
 *
 * @example
 * const reply = pending.wait('b:42', 5_000);
 * await sender.forward(owner, record);
 * pending.settle('b:42', { ok: true, members }); // from the inbox
 */
export class PendingRequests {
  readonly #waiting = new Map<string, (reply: RequestReply) => void>();

  wait(requestId: string, timeoutMs: number): Promise<RequestReply> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(requestId);
        resolve({
          ok: false,
          code: 'cluster_unavailable',
          message: `The conversation's owner did not answer within ${timeoutMs} ms; the change may not have been made. Read the conversation, then send it again if needed.`,
        });
      }, timeoutMs);
      this.#waiting.set(requestId, (reply) => {
        clearTimeout(timer);
        this.#waiting.delete(requestId);
        resolve(reply);
      });
    });
  }

  /** Answers a waiting request; false when none waits under that id (a late or repeated reply). */
  settle(requestId: string, reply: RequestReply): boolean {
    const settle = this.#waiting.get(requestId);
    if (settle === undefined) return false;
    settle(reply);
    return true;
  }

  /** Fails every waiting request (the node is closing). */
  failAll(message: string): void {
    for (const requestId of [...this.#waiting.keys()]) {
      this.settle(requestId, { ok: false, code: 'cluster_unavailable', message });
    }
  }
}
