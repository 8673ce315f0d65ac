/**
 * The sequence diagram's model: a conversation's log entries turned into lifelines and arrows,
 * with a lifeline per client connection, the conversation, the model and the tools. Consecutive
 * text deltas and consecutive chunk frames collapse into one arrow each.
 */
import { field, preview, stringField } from './dom.js';

/** One arrow (or note) of the diagram, possibly standing for a run of collapsed entries. */
export interface Arrow {
  /** A line of text across the diagram instead of an arrow. */
  note?: string;
  kind?: 'input' | 'model' | 'tool' | 'tool failed' | 'frame';
  from?: string;
  to?: string[];
  label?: string;
  detail?: unknown;
  /** Entries with the same group in a row collapse into this arrow. */
  group?: string;
  /** The collapsed text (deltas, chunks). */
  text?: string;
  /** The conversation seq of a broadcast frame. */
  seq?: number;
  count: number;
  position: number;
  lastPosition: number;
  lastSeq?: number;
}

/** The lifelines and arrows of a log. */
export interface Sequence {
  clients: string[];
  userOf: Map<string, string>;
  arrows: Arrow[];
}

type Entry = Record<string, unknown>;
type NewArrow = Omit<Arrow, 'count' | 'position' | 'lastPosition'>;

/** Turns log entries into lifelines and arrows. */
export function buildSequence(entries: readonly Entry[]): Sequence {
  const clients: string[] = [];
  const userOf = new Map<string, string>();
  const joined = new Set<string>();
  const arrows: Arrow[] = [];
  const client = (id: string, userId: unknown) => {
    if (!clients.includes(id)) clients.push(id);
    if (typeof userId === 'string' && !userOf.has(id)) userOf.set(id, userId);
  };
  const push = (arrow: NewArrow, entry: Entry) => {
    const position = typeof entry.position === 'number' ? entry.position : 0;
    const last = arrows.at(-1);
    if (arrow.group !== undefined && last?.group === arrow.group) {
      last.count += 1;
      last.lastPosition = position;
      if (arrow.seq !== undefined) last.lastSeq = arrow.seq;
      if (arrow.text !== undefined) last.text = (last.text ?? '') + arrow.text;
      return;
    }
    arrows.push({
      count: 1,
      position,
      lastPosition: position,
      ...(arrow.seq === undefined ? {} : { lastSeq: arrow.seq }),
      ...arrow,
    });
  };
  for (const entry of entries) {
    switch (entry.kind) {
      case 'conversation.started': {
        const from = typeof entry.from_seq === 'number' && entry.from_seq > 0 ? entry.from_seq : 0;
        const restored = from > 0 ? ` (restored at seq ${String(from)})` : '';
        push({ note: `conversation started${restored}` }, entry);
        break;
      }
      case 'input': {
        const input = field(entry, 'input');
        const from = stringField(input, 'connectionId') ?? null;
        const type = stringField(input, 'type');
        if (from !== null) client(from, field(input, 'userId'));
        if (type === 'participant.join' && from !== null) joined.add(from);
        push(
          {
            kind: 'input',
            from: from ?? 'conversation',
            to: ['conversation'],
            label: inputLabel(input),
            detail: input,
          },
          entry,
        );
        if (type === 'participant.leave' && from !== null) joined.delete(from);
        break;
      }
      case 'model.part':
        pushModelPart(entry, push);
        break;
      case 'tool.outcome': {
        const outcome = field(entry, 'outcome');
        const ok = field(outcome, 'ok') === true;
        const duration = String(field(outcome, 'durationMs'));
        const toolName = String(entry.tool_name);
        const code = stringField(field(outcome, 'error'), 'code') ?? 'error';
        push(
          {
            kind: ok ? 'tool' : 'tool failed',
            from: 'tools',
            to: ['conversation'],
            label: ok ? `${toolName} ok · ${duration} ms` : `${toolName} ${code} · ${duration} ms`,
            detail: outcome,
          },
          entry,
        );
        break;
      }
      case 'frame': {
        const frame = (field(entry, 'frame') ?? {}) as Entry;
        const direct = typeof entry.to === 'string' ? entry.to : undefined;
        if (direct !== undefined) client(direct, frame.user_id);
        const connection = stringField(frame, 'connection_id');
        if (frame.type === 'presence' && frame.status === 'joined' && connection !== undefined) {
          client(connection, frame.user_id);
          joined.add(connection);
        }
        const to = direct === undefined ? [...joined] : [direct];
        // A reply to one connection carries the current seq but is not a conversation event.
        const seq =
          typeof entry.seq === 'number' && entry.seq > 0 && direct === undefined
            ? entry.seq
            : undefined;
        const chunk = frame.type === 'agent_response_chunk';
        push(
          {
            kind: 'frame',
            from: 'conversation',
            to: to.length > 0 ? to : ['(nobody)'],
            ...(seq === undefined ? {} : { seq }),
            label: frameLabel(frame),
            ...(chunk
              ? { group: `chunk:${String(frame.turn_id)}`, text: stringField(frame, 'delta') ?? '' }
              : {}),
            detail: frame,
          },
          entry,
        );
        if (frame.type === 'presence' && frame.status === 'left' && connection !== undefined) {
          joined.delete(connection);
        }
        break;
      }
      default:
        push({ note: String(entry.kind) }, entry);
    }
  }
  return { clients, userOf, arrows };
}

function pushModelPart(entry: Entry, push: (arrow: NewArrow, entry: Entry) => void): void {
  const part = field(entry, 'part');
  const type = stringField(part, 'type');
  if (type === 'text-delta') {
    push(
      {
        kind: 'model',
        from: 'model',
        to: ['conversation'],
        group: `text:${String(entry.turn_id)}:${String(entry.step)}`,
        text: stringField(part, 'delta') ?? '',
        label: 'text',
      },
      entry,
    );
    return;
  }
  if (type === 'tool-call') {
    const toolName = stringField(part, 'toolName') ?? '';
    push(
      {
        kind: 'model',
        from: 'model',
        to: ['conversation'],
        label: `tool-call ${toolName}`,
        detail: part,
      },
      entry,
    );
    push(
      {
        kind: 'tool',
        from: 'conversation',
        to: ['tools'],
        label: `call ${toolName}(${preview(field(part, 'input') ?? {}, 40)})`,
        detail: part,
      },
      entry,
    );
    return;
  }
  const error = field(part, 'error');
  const why =
    type === 'finish'
      ? `finish: ${String(field(part, 'finishReason'))}`
      : `${String(type)}${error === undefined ? '' : ` ${preview(error, 40)}`}`;
  push({ kind: 'model', from: 'model', to: ['conversation'], label: why, detail: part }, entry);
}

function inputLabel(input: unknown): string {
  switch (stringField(input, 'type')) {
    case 'participant.join': {
      const since = field(input, 'since');
      const from = typeof since === 'number' ? ` since ${String(since)}` : '';
      return `join (${stringField(input, 'userId') ?? '?'})${from}`;
    }
    case 'participant.leave':
      return 'leave';
    case 'user.message':
      return `message “${preview(stringField(input, 'content') ?? '', 40)}”`;
    case 'user.typing':
      return field(input, 'isTyping') === true ? 'typing…' : 'stopped typing';
    case 'user.cancel': {
      const turnId = stringField(input, 'turnId');
      return `cancel${turnId === undefined ? '' : ` ${turnId}`}`;
    }
    case undefined:
    default:
      return String(field(input, 'type'));
  }
}

/** A short label for a frame: its type and what matters about it. */
export function frameLabel(frame: Record<string, unknown>): string {
  const text = (key: string) => stringField(frame, key) ?? '';
  switch (frame.type) {
    case 'user_message':
      return `user_message “${preview(text('content'), 30)}”`;
    case 'presence':
      return `presence ${text('status')} ${text('user_id')}`;
    case 'typing_indicator':
      return `typing_indicator ${text('actor')} ${frame.is_typing === true ? 'on' : 'off'}`;
    case 'tool_call':
      return `tool_call ${text('tool_name')}`;
    case 'tool_result':
      return `tool_result ${text('tool_name')}${frame.ok === true ? ' ok' : ' failed'}`;
    case 'agent_response_complete':
      return `agent_response_complete ${text('status')}`;
    case 'welcome':
      return `welcome ${text('user_id')}`;
    case 'error':
      return `error ${text('code')}`;
    default:
      return String(frame.type);
  }
}
