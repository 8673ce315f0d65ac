/**
 * The conversation API: create a conversation, read it, change its members
 * (`/api/conversations`, `/api/conversations/{id}`, `/api/conversations/{id}/members/{user_id}`).
 * JSON in and out; every error is `{ "code", "message" }` with the status of the error table
 * (docs/WEBSOCKET_API.md, "HTTP API"). Access is checked by {@link Access}; a conversation the
 * caller may not read answers 404 exactly as one that does not exist.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { roleOf, type Member, type MemberChange } from '../../actors/membership.js';
import type { Engine } from '../engine.js';
import { ParleyError, type FrameIssue } from '../errors.js';
import type { EventStore } from '../event-log/event-store.js';
import { randomIds } from '../ids.js';
import { conversationIdSchema, roleSchema } from '../protocol/frames.js';
import type { Access } from './access.js';
import type { AuthenticatedUser } from './authenticate.js';
import type { UserLimits } from './user-limits.js';

/** Largest request body the API reads. */
const MAX_BODY_BYTES = 64 * 1024;
/** Members a creation may list besides its owner. */
const MAX_INITIAL_MEMBERS = 1_000;
const userIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'expected 1-64 characters of letters, digits, _ . @ -');

const createSchema = z.strictObject({
  id: conversationIdSchema.optional(),
  agent: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'expected an agent id')
    .optional(),
  members: z
    .array(z.strictObject({ user_id: userIdSchema, role: z.enum(['member', 'viewer']) }))
    .max(MAX_INITIAL_MEMBERS)
    .optional(),
});
const memberSchema = z.strictObject({ role: roleSchema });

/** What the conversation routes need. */
export interface ConversationRoutesContext {
  /** The engine, or in cluster mode the writes routed to each conversation's owner. */
  engine: Pick<Engine, 'conversationInfo' | 'changeMembership' | 'deleteConversation'>;
  store: EventStore;
  access: Access;
  userLimits: UserLimits;
}

/** A conversation as the API shows it. */
export interface ConversationView {
  id: string;
  /** The agent named at creation, when the log records one; null otherwise. */
  agent: string | null;
  members: { user_id: string; role: string }[];
  /** Epoch ms of the conversation's first log entry. */
  created: number;
  last_seq: number;
}

const newConversationId = randomIds();

/**
 * `POST /api/conversations`: the caller becomes the owner, with the members the body lists;
 * answers 201 with the conversation.
 *
 * @example
 * // POST /api/conversations {"members":[{"user_id":"bob","role":"viewer"}]}
 */
export async function createConversation(
  request: IncomingMessage,
  user: AuthenticatedUser,
  context: ConversationRoutesContext,
): Promise<ConversationView> {
  const body = parseBody(createSchema, await readJson(request));
  const conversationId = body.id ?? newConversationId('conv');
  if (!(await context.access.mayCreate(user, conversationId))) {
    throw new ParleyError('forbidden', 'You may not create conversations.');
  }
  if ((await context.engine.conversationInfo(conversationId)) !== undefined) {
    throw new ParleyError(
      'conversation_exists',
      `Conversation ${conversationId} already exists; choose another id, or leave id out for a generated one.`,
    );
  }
  context.userLimits.admitCreation(user.userId, conversationId);
  const changes: MemberChange[] = [
    { userId: user.userId, role: 'owner' },
    ...(body.members ?? [])
      .filter((member) => member.user_id !== user.userId)
      .map((member) => ({ userId: member.user_id, role: member.role })),
  ];
  await context.engine.changeMembership(
    conversationId,
    { by: user.userId, action: 'created', changes },
    body.agent === undefined ? {} : { agent: body.agent },
  );
  return viewConversation(conversationId, context, body.agent);
}

/**
 * `PUT /api/conversations/{id}/members/{user_id}` (`{"role": …}`) and `DELETE` of the same path
 * (`role: null`): owner or admin only; the conversation keeps at least one owner.
 */
export async function changeMember(
  conversationId: string,
  memberId: string,
  method: 'PUT' | 'DELETE',
  request: IncomingMessage,
  user: AuthenticatedUser,
  context: ConversationRoutesContext,
): Promise<{ members: { user_id: string; role: string }[] }> {
  await context.access.require(user, conversationId, 'manage');
  const target = userIdSchema.safeParse(memberId);
  if (!target.success) {
    throw new ParleyError('invalid_request', `Invalid user id ${JSON.stringify(memberId)}.`, {
      issues: [
        { path: 'user_id', message: 'expected 1-64 characters of letters, digits, _ . @ -' },
      ],
    });
  }
  const newRole =
    method === 'DELETE' ? null : parseBody(memberSchema, await readJson(request)).role;
  const info = await context.engine.conversationInfo(conversationId);
  const members = info?.members ?? [];
  const current = roleOf(members, memberId);
  if (newRole === null && current === undefined) {
    throw new ParleyError(
      'not_found',
      `${memberId} is not a member of conversation ${conversationId}.`,
    );
  }
  const owners = members.filter((member) => member.role === 'owner' && member.userId !== memberId);
  if (current === 'owner' && newRole !== 'owner' && owners.length === 0) {
    throw new ParleyError(
      'invalid_request',
      `${memberId} is the last owner of conversation ${conversationId}: make another member owner first, or delete the conversation.`,
    );
  }
  const after = await context.engine.changeMembership(conversationId, {
    by: user.userId,
    action: newRole === null ? 'removed' : current === undefined ? 'added' : 'changed',
    changes: [{ userId: memberId, role: newRole }],
  });
  return { members: membersView(after) };
}

/**
 * `DELETE /api/conversations/{id}` (owner or admin): participants are closed with 4404 and every
 * log entry is erased; the id may be created again, from seq 1.
 */
export async function deleteConversation(
  conversationId: string,
  user: AuthenticatedUser,
  context: ConversationRoutesContext,
): Promise<{ id: string; deleted: true; entries: number }> {
  await context.access.require(user, conversationId, 'delete');
  const entries = await context.engine.deleteConversation(conversationId);
  return { id: conversationId, deleted: true, entries };
}

/** `GET /api/conversations/{id}`: what the caller may read of it. */
export async function readConversation(
  conversationId: string,
  user: AuthenticatedUser,
  context: ConversationRoutesContext,
): Promise<ConversationView> {
  await context.access.require(user, conversationId, 'read');
  return viewConversation(conversationId, context);
}

async function viewConversation(
  conversationId: string,
  context: ConversationRoutesContext,
  agent?: string,
): Promise<ConversationView> {
  const info = await context.engine.conversationInfo(conversationId);
  if (info === undefined) throw new ParleyError('not_found', `No conversation ${conversationId}.`);
  const [first] = await context.store.readEntries(conversationId, { limit: 1 });
  const recorded = (first as { agent?: unknown } | undefined)?.agent;
  return {
    id: conversationId,
    agent: agent ?? (typeof recorded === 'string' ? recorded : null),
    members: membersView(info.members ?? []),
    created: first?.at ?? 0,
    last_seq: info.lastSeq,
  };
}

function membersView(members: readonly Member[]) {
  return members.map((member) => ({ user_id: member.userId, role: member.role }));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new ParleyError(
        'invalid_request',
        `The request body is larger than ${MAX_BODY_BYTES} bytes.`,
      );
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ParleyError('invalid_request', 'The request body is not valid JSON.');
  }
}

function parseBody<TSchema extends z.ZodType>(schema: TSchema, body: unknown): z.output<TSchema> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues: FrameIssue[] = parsed.error.issues.map((issue) => ({
    path: issue.path.join('.'),
    message: issue.message,
  }));
  const first = issues[0];
  throw new ParleyError(
    'invalid_request',
    first === undefined
      ? 'Invalid request body.'
      : `Invalid request body: ${first.path === '' ? '' : `${first.path}: `}${first.message}`,
    { issues },
  );
}
