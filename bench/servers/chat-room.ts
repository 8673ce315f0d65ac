/**
 * The chat logic of the comparison servers (raw `ws` and Socket.IO), written the way a user of
 * those libraries would: a map of rooms, JSON parsed once per client message, one turn at a time
 * per room, and each frame serialized once and sent to every member. The frames have Parley's
 * shapes and sizes (type first, then `conversation_id`, `seq` and `timestamp`), so every server
 * moves the same bytes.
 */
import { randomBytes } from 'node:crypto';
import type { LanguageModel } from '../../src/agent/model.js';

/** One member of a room, as the transport sees it. */
export interface RoomMember {
  readonly userId: string;
}

/** What a room needs from its transport: send one frame to every member of the room. */
export type Broadcast<TMember> = (
  roomId: string,
  members: ReadonlySet<TMember>,
  frame: object,
) => void;

interface Room<TMember> {
  readonly id: string;
  readonly members: Set<TMember>;
  seq: number;
  queue: { userId: string; content: string }[];
  running: boolean;
}

/** Random ids shaped like Parley's (`turn_` + 16 hex characters). */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

/**
 * Rooms with Parley-shaped frames over any transport.
 *
 * @example
 * const rooms = new ChatRooms(model, (members, frame) => { ... });
 * rooms.join('demo', member);
 */
export class ChatRooms<TMember extends RoomMember> {
  private readonly rooms = new Map<string, Room<TMember>>();

  constructor(
    private readonly model: LanguageModel,
    private readonly broadcast: Broadcast<TMember>,
  ) {}

  get size(): number {
    return this.rooms.size;
  }

  /** Adds a member: `welcome` to it (through `sendDirect`), then `presence` to the room. */
  join(
    roomId: string,
    member: TMember,
    connectionId: string,
    sendDirect: (frame: object) => void,
  ): void {
    let room = this.rooms.get(roomId);
    if (room === undefined) {
      room = { id: roomId, members: new Set(), seq: 0, queue: [], running: false };
      this.rooms.set(roomId, room);
    }
    room.members.add(member);
    const participants = [...new Set([...room.members].map((each) => each.userId))].sort();
    const welcome = {
      type: 'welcome',
      connection_id: connectionId,
      user_id: member.userId,
      participants,
      conversation_id: room.id,
      seq: room.seq,
      timestamp: Date.now(),
    };
    sendDirect(welcome);
    this.event(room, {
      type: 'presence',
      status: 'joined',
      user_id: member.userId,
      connection_id: connectionId,
      participants,
    });
  }

  leave(roomId: string, member: TMember): void {
    const room = this.rooms.get(roomId);
    if (room === undefined) return;
    room.members.delete(member);
    if (room.members.size === 0 && !room.running) this.rooms.delete(roomId);
  }

  /** A parsed client message: a `user_message` starts (or queues) an agent turn. */
  receive(roomId: string, member: TMember, message: unknown): void {
    const room = this.rooms.get(roomId);
    if (room === undefined || typeof message !== 'object' || message === null) return;
    const { type, content } = message as { type?: unknown; content?: unknown };
    if (type !== 'user_message' || typeof content !== 'string' || content.length === 0) return;
    room.queue.push({ userId: member.userId, content });
    if (!room.running) void this.runTurns(room);
  }

  private async runTurns(room: Room<TMember>): Promise<void> {
    room.running = true;
    for (let next = room.queue.shift(); next !== undefined; next = room.queue.shift()) {
      await this.runTurn(room, next);
    }
    room.running = false;
    if (room.members.size === 0) this.rooms.delete(room.id);
  }

  private async runTurn(
    room: Room<TMember>,
    { userId, content }: { userId: string; content: string },
  ): Promise<void> {
    const turnId = randomId('turn');
    const messageId = randomId('message');
    this.event(room, {
      type: 'user_message',
      message_id: randomId('message'),
      user_id: userId,
      content,
      turn_id: turnId,
    });
    this.event(room, {
      type: 'typing_indicator',
      actor: 'agent',
      turn_id: turnId,
      is_typing: true,
    });
    let text = '';
    let index = 0;
    let usage = { inputTokens: 0, outputTokens: 0 };
    const signal = new AbortController().signal;
    for await (const part of this.model.stream({ messages: [], tools: [] }, { signal })) {
      if (part.type === 'text-delta') {
        text += part.delta;
        this.event(room, {
          type: 'agent_response_chunk',
          turn_id: turnId,
          message_id: messageId,
          index,
          delta: part.delta,
        });
        index += 1;
      } else if (part.type === 'finish') {
        usage = part.usage;
      }
    }
    this.event(room, {
      type: 'agent_response_complete',
      turn_id: turnId,
      message_id: messageId,
      content: text,
      status: 'completed',
      usage: {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        total_tokens: usage.inputTokens + usage.outputTokens,
      },
      steps: 1,
    });
  }

  private event(room: Room<TMember>, body: Record<string, unknown>): void {
    room.seq += 1;
    body.conversation_id = room.id;
    body.seq = room.seq;
    body.timestamp = Date.now();
    this.broadcast(room.id, room.members, body);
  }
}
