/**
 * The time travel bar: a slider over a timeline's points (a conversation's persisted log, or a
 * loaded recording), the states of its actors at the chosen point, and the frames sent until
 * then. The page decides what the rest of the views show for the chosen point.
 */
import type { InspectorMessage, TimelinePoint } from '../../inspector/inspector-protocol.js';
import { clear, clockTime, field, h, preview, stringField } from './dom.js';
import { frameLabel } from './sequence-model.js';

const MAX_FRAME_ROWS = 400;

/** A `timeline` message as the engine sends it. */
export type TimelineMessage = Extract<InspectorMessage, { type: 'timeline' }>;

/** A loaded timeline: the message, where it came from, and where each point sits in its log. */
export interface LoadedTimeline extends TimelineMessage {
  recording: boolean;
  positions: (number | null)[];
  /** Every actor path of the timeline, computed when first needed. */
  paths?: Set<string>;
}

/** The elements the bar drives. */
export interface TimeTravelElements {
  slider: HTMLInputElement;
  label: HTMLElement;
  live: HTMLElement;
  panels: HTMLElement;
  actors: HTMLElement;
  frames: HTMLElement;
}

/** What the page hears from the bar. */
export interface TimeTravelHandlers {
  onPoint: (index: number) => void;
  onLive: () => void;
  onPickActor: (path: string) => void;
}

/** Where each point of a timeline sits in its log (for dimming the sequence diagram). */
export function pointPositions(
  points: readonly TimelinePoint[],
  entries: readonly Record<string, unknown>[],
): (number | null)[] {
  // Points are the conversation's events (broadcast frames); a reply to one connection is not one.
  const frames = entries.filter((entry) => entry.kind === 'frame' && typeof entry.to !== 'string');
  const position = (entry: Record<string, unknown>) =>
    typeof entry.position === 'number' ? entry.position : null;
  if (
    frames.length === points.length &&
    frames.every((entry, index) => entry.seq === points[index]?.seq)
  ) {
    return frames.map(position);
  }
  const bySeq = new Map(frames.map((entry) => [entry.seq, position(entry)]));
  return points.map((point) => bySeq.get(point.seq) ?? null);
}

/** The bottom bar's time travel controls. */
export class TimeTravel {
  timeline: LoadedTimeline | null = null;
  index = -1;
  travelling = false;

  constructor(
    private readonly elements: TimeTravelElements,
    private readonly handlers: TimeTravelHandlers,
  ) {
    elements.slider.addEventListener('input', () => {
      this.go(Number(elements.slider.value));
    });
    elements.live.addEventListener('click', () => {
      this.live();
    });
  }

  /** Loads a `timeline` message; starts at its last point, still live. */
  load(message: TimelineMessage, recording: boolean): void {
    this.timeline = {
      ...message,
      recording,
      positions: pointPositions(message.points, message.entries),
    };
    const { slider, panels } = this.elements;
    slider.min = '0';
    slider.max = String(Math.max(0, message.points.length - 1));
    slider.value = slider.max;
    slider.disabled = message.points.length === 0;
    panels.hidden = false;
    this.index = message.points.length - 1;
    this.travelling = false;
    this.setLabel(this.describe());
    this.renderPoint();
  }

  /** Removes the timeline (another conversation was selected). */
  unload(): void {
    this.timeline = null;
    this.index = -1;
    this.travelling = false;
    this.elements.slider.disabled = true;
    this.elements.slider.value = '0';
    this.elements.panels.hidden = true;
    this.setLabel('No timeline loaded');
    this.elements.live.classList.remove('attention');
  }

  /** The point shown, or null when live. */
  get point(): TimelinePoint | null {
    return this.travelling && this.timeline ? (this.timeline.points[this.index] ?? null) : null;
  }

  /** The point before the one shown, if any. */
  get previousPoint(): TimelinePoint | undefined {
    return this.timeline?.points[this.index - 1];
  }

  /** Moves to point `index` (time travel). */
  go(index: number): void {
    if (!this.timeline) return;
    this.index = Math.max(0, Math.min(index, this.timeline.points.length - 1));
    this.elements.slider.value = String(this.index);
    this.travelling = true;
    this.elements.live.classList.add('attention');
    this.setLabel(this.describe());
    this.renderPoint();
    this.handlers.onPoint(this.index);
  }

  /** Returns to the live view (the timeline stays loaded). */
  live(): void {
    if (!this.travelling) return;
    this.travelling = false;
    this.elements.live.classList.remove('attention');
    if (this.timeline) {
      this.index = this.timeline.points.length - 1;
      this.elements.slider.value = String(this.index);
      this.setLabel(this.describe());
      this.renderPoint();
    }
    this.handlers.onLive();
  }

  /** The log position of the point shown, or null when live. */
  get position(): number | null {
    return this.point ? (this.timeline?.positions[this.index] ?? null) : null;
  }

  /** The label is cut to fit the bar; its tooltip keeps the whole text. */
  private setLabel(text: string): void {
    this.elements.label.textContent = text;
    this.elements.label.title = text;
  }

  private describe(): string {
    const timeline = this.timeline;
    if (!timeline) return 'No timeline loaded';
    const origin = timeline.recording
      ? `recording ${timeline.source}`
      : `log of ${timeline.conversation_id}`;
    const truncated = timeline.truncated ? ' (truncated)' : '';
    const point = timeline.points[this.index];
    if (point === undefined) return `${origin}: no frames`;
    const count = timeline.points.length;
    const where = this.travelling
      ? `point ${String(this.index + 1)}/${String(count)} · seq ${String(point.seq)} · ${stringField(point.frame, 'type') ?? ''} · ${clockTime(point.at)}`
      : `live · ${String(count)} points`;
    return `${origin}${truncated} — ${where}`;
  }

  private renderPoint(): void {
    const { actors, frames } = this.elements;
    clear(actors);
    clear(frames);
    const timeline = this.timeline;
    const point = timeline?.points[this.index];
    if (!timeline || !point) return;
    actors.append(
      h('div', {
        class: 'panel-title',
        text: this.travelling ? `Actors at seq ${String(point.seq)}` : 'Actors at the last point',
      }),
    );
    for (const [path, state] of Object.entries(point.states)) {
      actors.append(
        h(
          'button',
          {
            class: 'actor-chip',
            'data-path': path,
            'data-state': state,
            title: path,
            onclick: () => {
              this.handlers.onPickActor(path);
            },
          },
          h('span', { class: 'chip-path', text: path.replace(/^(conversation|connection):/, '') }),
          h('span', { class: 'badge', text: state }),
        ),
      );
    }
    const until = timeline.points.slice(0, this.index + 1);
    frames.append(
      h('div', { class: 'panel-title', text: `Frames until here (${String(until.length)})` }),
    );
    const list = h('div', { class: 'frame-list' });
    if (until.length > MAX_FRAME_ROWS) {
      list.append(
        h('div', {
          class: 'muted small',
          text: `… ${String(until.length - MAX_FRAME_ROWS)} earlier frames`,
        }),
      );
    }
    for (const item of until.slice(-MAX_FRAME_ROWS)) {
      const frame = item.frame;
      list.append(
        h(
          'div',
          {
            class: `frame-row frame-${stringField(frame, 'type') ?? 'unknown'}`,
            title: preview(frame, 600),
          },
          h('span', { class: 'seq', text: item.seq > 0 ? `#${String(item.seq)}` : '—' }),
          h('span', { class: 'time', text: clockTime(item.at) }),
          h('span', { class: 'frame-label', text: frameLabel(frame) }),
          h('span', { class: 'frame-extra', text: frameExtra(frame) }),
        ),
      );
    }
    frames.append(list);
    list.scrollTop = list.scrollHeight;
  }
}

function frameExtra(frame: Record<string, unknown>): string {
  switch (frame.type) {
    case 'agent_response_chunk':
      return preview(stringField(frame, 'delta') ?? '', 40);
    case 'agent_response_complete':
      return preview(stringField(frame, 'content') ?? '', 60);
    case 'tool_result':
      return preview(frame.ok === true ? frame.result : frame.error, 60);
    case 'tool_call':
      return preview(field(frame, 'arguments'), 60);
    default:
      return '';
  }
}
