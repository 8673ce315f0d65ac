/**
 * The "Sequence" tab: a sequence diagram of one conversation built from its log entries, with a
 * lifeline per client connection, the conversation, the model and the tools. Consecutive text
 * deltas and consecutive chunk frames collapse into one arrow each.
 *
 * Over 300 lines: building the rows from log entries and drawing them share the collapse rules;
 * kept together so they cannot drift apart.
 */
import { clear, h, preview, s, textWidth } from './dom.js';

const COLUMN = 170;
const ROW = 26;
const HEAD = 44;
const MAX_ARROWS = 3000;

/** Turns log entries into lifelines and arrows. */
export function buildSequence(entries) {
  const clients = [];
  const userOf = new Map();
  const joined = new Set();
  const arrows = [];
  const client = (id, userId) => {
    if (!clients.includes(id)) clients.push(id);
    if (userId !== undefined && !userOf.has(id)) userOf.set(id, userId);
  };
  const push = (arrow, entry) => {
    const last = arrows[arrows.length - 1];
    if (arrow.group !== undefined && last && last.group === arrow.group) {
      last.count += 1;
      last.lastPosition = entry.position;
      last.lastSeq = arrow.seq ?? last.lastSeq;
      if (arrow.text !== undefined) last.text += arrow.text;
      return;
    }
    arrows.push({
      count: 1,
      position: entry.position,
      lastPosition: entry.position,
      lastSeq: arrow.seq,
      ...arrow,
    });
  };
  for (const entry of entries) {
    switch (entry.kind) {
      case 'conversation.started':
        push(
          {
            note: `conversation started${entry.from_seq ? ` (restored at seq ${entry.from_seq})` : ''}`,
          },
          entry,
        );
        break;
      case 'input': {
        const input = entry.input ?? {};
        const from = typeof input.connectionId === 'string' ? input.connectionId : null;
        if (from !== null) client(from, input.userId);
        if (input.type === 'participant.join' && from !== null) joined.add(from);
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
        if (input.type === 'participant.leave' && from !== null) joined.delete(from);
        break;
      }
      case 'model.part': {
        const part = entry.part ?? {};
        if (part.type === 'text-delta') {
          push(
            {
              kind: 'model',
              from: 'model',
              to: ['conversation'],
              group: `text:${entry.turn_id}:${entry.step}`,
              text: String(part.delta ?? ''),
              label: 'text',
            },
            entry,
          );
        } else if (part.type === 'tool-call') {
          push(
            {
              kind: 'model',
              from: 'model',
              to: ['conversation'],
              label: `tool-call ${part.toolName}`,
              detail: part,
            },
            entry,
          );
          push(
            {
              kind: 'tool',
              from: 'conversation',
              to: ['tools'],
              label: `call ${part.toolName}(${preview(part.input ?? {}, 40)})`,
              detail: part,
            },
            entry,
          );
        } else {
          const why =
            part.type === 'finish'
              ? `finish: ${part.finishReason}`
              : `${part.type}${part.error ? ` ${preview(part.error, 40)}` : ''}`;
          push(
            { kind: 'model', from: 'model', to: ['conversation'], label: why, detail: part },
            entry,
          );
        }
        break;
      }
      case 'tool.outcome': {
        const outcome = entry.outcome ?? {};
        const label = outcome.ok
          ? `${entry.tool_name} ok · ${outcome.durationMs} ms`
          : `${entry.tool_name} ${outcome.error?.code ?? 'error'} · ${outcome.durationMs} ms`;
        push(
          {
            kind: outcome.ok ? 'tool' : 'tool failed',
            from: 'tools',
            to: ['conversation'],
            label,
            detail: outcome,
          },
          entry,
        );
        break;
      }
      case 'frame': {
        const frame = entry.frame ?? {};
        if (typeof entry.to === 'string') client(entry.to, frame.user_id);
        if (
          frame.type === 'presence' &&
          frame.status === 'joined' &&
          typeof frame.connection_id === 'string'
        ) {
          client(frame.connection_id, frame.user_id);
          joined.add(frame.connection_id);
        }
        const to = typeof entry.to === 'string' ? [entry.to] : [...joined];
        // A reply to one connection carries the current seq but is not a conversation event.
        const seq =
          typeof entry.seq === 'number' && entry.seq > 0 && typeof entry.to !== 'string'
            ? entry.seq
            : undefined;
        push(
          {
            kind: 'frame',
            from: 'conversation',
            to: to.length > 0 ? to : ['(nobody)'],
            seq,
            label: frameLabel(frame),
            group: frame.type === 'agent_response_chunk' ? `chunk:${frame.turn_id}` : undefined,
            text: frame.type === 'agent_response_chunk' ? String(frame.delta ?? '') : undefined,
            detail: frame,
          },
          entry,
        );
        if (frame.type === 'presence' && frame.status === 'left')
          joined.delete(frame.connection_id);
        break;
      }
      default:
        push({ note: `${entry.kind}` }, entry);
    }
  }
  return { clients, userOf, arrows };
}

function inputLabel(input) {
  switch (input.type) {
    case 'participant.join':
      return `join (${input.userId ?? '?'})${input.since !== undefined ? ` since ${input.since}` : ''}`;
    case 'participant.leave':
      return 'leave';
    case 'user.message':
      return `message “${preview(String(input.content ?? ''), 40)}”`;
    case 'user.typing':
      return input.isTyping ? 'typing…' : 'stopped typing';
    case 'user.cancel':
      return `cancel${input.turnId ? ` ${input.turnId}` : ''}`;
    default:
      return String(input.type);
  }
}

/** A short label for a frame: its type and what matters about it. */
export function frameLabel(frame) {
  switch (frame.type) {
    case 'user_message':
      return `user_message “${preview(String(frame.content ?? ''), 30)}”`;
    case 'presence':
      return `presence ${frame.status} ${frame.user_id ?? ''}`;
    case 'typing_indicator':
      return `typing_indicator ${frame.actor ?? ''} ${frame.is_typing ? 'on' : 'off'}`;
    case 'tool_call':
    case 'tool_result':
      return `${frame.type} ${frame.tool_name ?? ''}${frame.type === 'tool_result' ? (frame.ok ? ' ok' : ' failed') : ''}`;
    case 'agent_response_complete':
      return `agent_response_complete ${frame.status ?? ''}`;
    case 'welcome':
      return `welcome ${frame.user_id ?? ''}`;
    case 'error':
      return `error ${frame.code ?? ''}`;
    default:
      return String(frame.type);
  }
}

/** The sequence diagram view. */
export class SequenceView {
  /** @param {HTMLElement} container (`data-testid="sequence"`) */
  constructor(container) {
    this.container = container;
    this.built = null;
    this.arrowGroups = [];
  }

  /** Draws the diagram of these entries (or a hint when there are none). */
  show(title, entries) {
    clear(this.container);
    this.arrowGroups = [];
    if (!entries || entries.length === 0) {
      this.container.append(
        h('p', {
          class: 'muted',
          text: 'Load a timeline (bottom bar) or a recording to see the sequence of this conversation.',
        }),
      );
      return;
    }
    const built = buildSequence(entries);
    this.built = built;
    const lanes = [...built.clients, 'conversation', 'model', 'tools'];
    const x = new Map(lanes.map((lane, index) => [lane, 80 + index * COLUMN]));
    x.set('(nobody)', x.get('conversation') - COLUMN / 2);
    const arrows = built.arrows.slice(0, MAX_ARROWS);
    const width = 80 + lanes.length * COLUMN;
    const height = arrows.length * ROW + 20;

    const head = s('svg', {
      class: 'seq-head',
      width,
      height: HEAD,
      viewBox: `0 0 ${width} ${HEAD}`,
    });
    for (const lane of lanes) {
      const isClient = built.clients.includes(lane);
      const title = isClient ? (built.userOf.get(lane) ?? 'client') : lane;
      const sub = isClient ? lane : '';
      const boxWidth = Math.max(textWidth(title, 12, 600), textWidth(sub, 10)) + 20;
      head.append(
        s(
          'g',
          { class: `lane-head lane-${isClient ? 'client' : lane}` },
          s('rect', { x: x.get(lane) - boxWidth / 2, y: 4, width: boxWidth, height: 36, rx: 6 }),
          s('text', {
            x: x.get(lane),
            y: sub ? 20 : 26,
            'text-anchor': 'middle',
            class: 'lane-title',
            text: title,
          }),
          sub
            ? s('text', {
                x: x.get(lane),
                y: 33,
                'text-anchor': 'middle',
                class: 'lane-sub',
                text: sub,
              })
            : null,
        ),
      );
    }
    const body = s('svg', { class: 'seq-body', width, height, viewBox: `0 0 ${width} ${height}` });
    body.append(
      s(
        'defs',
        {},
        s(
          'marker',
          {
            id: 'seq-arrow',
            viewBox: '0 0 10 10',
            refX: '9',
            refY: '5',
            markerUnits: 'userSpaceOnUse',
            markerWidth: '8',
            markerHeight: '8',
            orient: 'auto-start-reverse',
          },
          s('path', { d: 'M0,0 L10,5 L0,10 z' }),
        ),
      ),
    );
    for (const lane of lanes) {
      body.append(
        s('line', { class: 'lifeline', x1: x.get(lane), x2: x.get(lane), y1: 0, y2: height }),
      );
    }
    arrows.forEach((arrow, index) => {
      const y = index * ROW + 20;
      const group = s('g', {
        class: `arrow ${arrow.note ? 'note' : `kind-${(arrow.kind ?? '').replace(' ', '-')}`}`,
      });
      if (arrow.note) {
        group.append(
          s('text', {
            x: x.get('conversation'),
            y: y - 4,
            'text-anchor': 'middle',
            class: 'note-text',
            text: arrow.note,
          }),
        );
      } else {
        const fromX = x.get(arrow.from) ?? x.get('conversation');
        const targets = arrow.to.map((lane) => x.get(lane) ?? x.get('conversation'));
        const farthest = targets.reduce(
          (best, value) => (Math.abs(value - fromX) > Math.abs(best - fromX) ? value : best),
          targets[0],
        );
        const self = farthest === fromX;
        group.append(
          self
            ? s('path', { d: `M${fromX},${y - 6} h24 v10 h-22`, 'marker-end': 'url(#seq-arrow)' })
            : s('line', { x1: fromX, x2: farthest, y1: y, y2: y, 'marker-end': 'url(#seq-arrow)' }),
        );
        // A broadcast frame shows a tip at every recipient it passes.
        for (const target of targets) {
          if (target === farthest) continue;
          const direction = Math.sign(target - fromX);
          group.append(
            s('path', {
              class: 'tip',
              d: `M${target - direction * 6},${y - 3.5} L${target},${y} L${target - direction * 6},${y + 3.5} z`,
            }),
          );
        }
        let label = arrow.label;
        if (arrow.count > 1) {
          label =
            arrow.kind === 'model'
              ? `text ×${arrow.count} tokens`
              : `${arrow.label} ×${arrow.count}`;
        }
        if (arrow.seq !== undefined) {
          label = `#${arrow.seq}${arrow.count > 1 && arrow.lastSeq !== arrow.seq ? `–${arrow.lastSeq}` : ''} ${label}`;
        }
        const middle = self ? fromX + 30 : (fromX + farthest) / 2;
        group.append(
          s('text', {
            x: middle,
            y: y - 4,
            'text-anchor': self ? 'start' : 'middle',
            class: 'arrow-label',
            text: label,
          }),
        );
        const tooltip =
          arrow.text !== undefined
            ? `${label}\n${preview(arrow.text, 400)}`
            : `${label}\n${preview(arrow.detail ?? {}, 400)}`;
        group.append(s('title', { text: tooltip }));
      }
      group.dataset.position = String(arrow.position);
      group.dataset.lastPosition = String(arrow.lastPosition);
      body.append(group);
      this.arrowGroups.push(group);
    });
    const caption = h(
      'div',
      { class: 'seq-caption' },
      h('strong', { text: title }),
      ` · ${entries.length} log entries → ${built.arrows.length} arrows`,
    );
    if (built.arrows.length > MAX_ARROWS)
      caption.append(h('span', { class: 'warn', text: ` (first ${MAX_ARROWS} shown)` }));
    this.container.append(
      caption,
      h('div', { class: 'seq-scroll' }, head, h('div', { class: 'seq-body-scroll' }, body)),
    );
  }

  /** Dims what happened after log position `position` (time travel); null shows everything. */
  setPosition(position) {
    let current;
    for (const group of this.arrowGroups) {
      const first = Number(group.dataset.position);
      const future = position !== null && first > position;
      group.classList.toggle('future', future);
      group.classList.remove('now');
      if (position !== null && !future) current = group;
    }
    if (current) {
      current.classList.add('now');
      const scroller = this.container.querySelector('.seq-body-scroll');
      const y = Number(
        current.querySelector('line,path,text')?.getAttribute('y1') ??
          current.querySelector('text')?.getAttribute('y') ??
          0,
      );
      if (
        scroller &&
        (y < scroller.scrollTop || y > scroller.scrollTop + scroller.clientHeight - ROW)
      ) {
        scroller.scrollTop = Math.max(0, y - scroller.clientHeight / 2);
      }
    }
  }
}
