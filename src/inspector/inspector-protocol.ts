/**
 * The inspector's WebSocket protocol (`/ws/inspect`), version 1: what the inspector page asks
 * and what the engine streams. docs/INSPECTOR.md documents it with examples.
 */
import { z } from 'zod';

export const INSPECTOR_PROTOCOL_VERSION = 1;

/** Largest page of the actor list. */
export const MAX_ACTOR_PAGE = 1000;

// ---------------------------------------------------------------- inspector → engine

export const inspectorRequestSchema = z.discriminatedUnion('type', [
  /** A page of the actor list (a snapshot for late joiners); `filter` matches paths. */
  z.object({
    type: z.literal('list'),
    filter: z.string().max(200).optional(),
    offset: z.number().int().nonnegative().default(0),
    limit: z.number().int().min(1).max(MAX_ACTOR_PAGE).default(200),
  }),
  /** Live events of one actor; a conversation path includes its connections. */
  z.object({ type: z.literal('subscribe'), path: z.string().min(1).max(300) }),
  z.object({ type: z.literal('unsubscribe'), path: z.string().min(1).max(300) }),
  /** Stop (and later restart) the live stream to this inspector; the engine is not paused. */
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  /** Development mode only: send an event to an actor. */
  z.object({
    type: z.literal('send'),
    path: z.string().min(1).max(300),
    event: z.record(z.string(), z.unknown()).and(z.object({ type: z.string().min(1) })),
  }),
  /** Time travel over a conversation's persisted log. */
  z.object({ type: z.literal('timeline'), conversation_id: z.string().min(1).max(128) }),
  /** Time travel over an exported recording (JSONL text). */
  z.object({ type: z.literal('load_recording'), name: z.string().max(200), text: z.string() }),
]);
export type InspectorRequest = z.infer<typeof inspectorRequestSchema>;
/** A request as a client writes it (`list`'s `offset` and `limit` may be left out). */
export type InspectorRequestInput = z.input<typeof inspectorRequestSchema>;

// ---------------------------------------------------------------- engine → inspector

/** One actor in the list. */
export interface ActorSummary {
  /** Stable path: `parley`, `conversation:<id>`, `connection:<id>`. */
  path: string;
  kind: 'root' | 'conversation' | 'connection';
  parent: string | null;
  /** For a connection: its conversation's path. */
  conversation: string | null;
  /** The state value, dotted (`working.calling_tool`). */
  state: string;
  /** `hibernated`: a connection whose actor is gone until its next event (its shard keeps it). */
  status: 'active' | 'done' | 'stopped' | 'error' | 'hibernated';
  updated_at: number;
  /** For a connection: the user it speaks for (from its context); null for other actors. */
  user_id: string | null;
  /** For a conversation: who is in it and what its agent is doing; null for other actors. */
  activity: ConversationActivity | null;
}

/** What a conversation is doing, for ordering the list and following an answer as it streams. */
export interface ConversationActivity {
  /** Connections in the conversation (hibernated ones too). */
  participants: number;
  /** The running turn, or null between turns. */
  turn_id: string | null;
  /** What the running turn does: `waiting`, `thinking`, `calling_tool`, `streaming`; null between turns. */
  turn_phase: string | null;
  /** The end of the running turn's answer so far ('' before its first token), cut to the sanitize limit. */
  answer: string;
  /** How many characters of the answer come before `answer`. */
  answer_offset: number;
}

/** One inspection event, numbered for this engine (monotonic, from 1). */
export interface InspectionRecord {
  seq: number;
  at: number;
  path: string;
  kind:
    | 'actor.created'
    | 'actor.stopped'
    | 'actor.hibernated'
    | 'actor.woken'
    | 'event'
    | 'snapshot'
    | 'microstep'
    | 'action'
    | 'timer.scheduled'
    | 'timer.cancelled'
    | 'pipeline';
  /** Kind-specific details, sanitized and truncated. */
  detail: Record<string, unknown>;
}

/** A point of a timeline: the state of every actor right after frame `seq` was sent. */
export interface TimelinePoint {
  seq: number;
  at: number;
  /** The frame sent at this point (sanitized). */
  frame: Record<string, unknown>;
  /** path → dotted state value, for the conversation and its connections. */
  states: Record<string, string>;
  /** The conversation's context at this point (sanitized). */
  context: Record<string, unknown>;
}

/** Messages the engine sends to an inspector. */
export type InspectorMessage =
  | {
      type: 'welcome';
      protocol_version: typeof INSPECTOR_PROTOCOL_VERSION;
      dev_mode: boolean;
      actor_count: number;
      /** Machine definitions (`machine.toJSON()`) by kind, for drawing statecharts. */
      machines: Record<'root' | 'conversation' | 'connection', unknown>;
    }
  | { type: 'actors'; total: number; offset: number; actors: ActorSummary[] }
  /** Changes to the actor list since the last message, batched (at most a few per second). */
  | { type: 'actors.changed'; added: ActorSummary[]; updated: ActorSummary[]; removed: string[] }
  /** The current snapshot and recent events of a subscribed actor. */
  | {
      type: 'actor';
      path: string;
      summary: ActorSummary;
      context: Record<string, unknown>;
      recent: InspectionRecord[];
    }
  | { type: 'events'; records: InspectionRecord[] }
  | { type: 'paused' }
  /** The stream goes on; `skipped` records were not sent while paused. */
  | { type: 'resumed'; skipped: number }
  | {
      type: 'timeline';
      conversation_id: string;
      source: string;
      points: TimelinePoint[];
      /** The log entries (inputs, model parts, tool outcomes, frames) for the sequence view. */
      entries: Record<string, unknown>[];
      truncated: boolean;
    }
  | { type: 'sent'; path: string; event_type: string }
  | { type: 'error'; code: string; message: string; in_reply_to?: string };
