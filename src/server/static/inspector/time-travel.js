/**
 * The time travel bar: a slider over a timeline's points (a conversation's persisted log, or a
 * loaded recording), the states of its actors at the chosen point, and the frames sent until
 * then. The page decides what the rest of the views show for the chosen point.
 */
import { clear, clockTime, h, preview } from './dom.js';
import { frameLabel } from './sequence-view.js';

const MAX_FRAME_ROWS = 400;

/** Where each point of a timeline sits in its log (for dimming the sequence diagram). */
export function pointPositions(points, entries) {
  // Points are the conversation's events (broadcast frames); a reply to one connection is not one.
  const frames = entries.filter((entry) => entry.kind === 'frame' && typeof entry.to !== 'string');
  if (frames.length === points.length && frames.every((entry, index) => entry.seq === points[index].seq)) {
    return frames.map((entry) => entry.position);
  }
  const bySeq = new Map(frames.map((entry) => [entry.seq, entry.position]));
  return points.map((point) => bySeq.get(point.seq) ?? null);
}

/** The bottom bar's time travel controls. */
export class TimeTravel {
  /**
   * @param {Record<string, HTMLElement>} elements slider, label, live, panels, actors, frames
   * @param {{ onPoint: (index: number) => void, onLive: () => void, onPickActor: (path: string) => void }} handlers
   */
  constructor(elements, handlers) {
    this.elements = elements;
    this.handlers = handlers;
    this.timeline = null;
    this.index = -1;
    this.travelling = false;
    elements.slider.addEventListener('input', () => this.go(Number(elements.slider.value)));
    elements.live.addEventListener('click', () => this.live());
  }

  /** Loads a `timeline` message; starts at its last point, still live. */
  load(message, recording) {
    const entries = message.entries ?? [];
    this.timeline = {
      ...message,
      entries,
      recording,
      positions: pointPositions(message.points, entries),
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
  unload() {
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
  get point() {
    return this.travelling && this.timeline ? (this.timeline.points[this.index] ?? null) : null;
  }

  /** Moves to point `index` (time travel). */
  go(index) {
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
  live() {
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
  get position() {
    return this.point ? (this.timeline.positions[this.index] ?? null) : null;
  }

  /** The label is cut to fit the bar; its tooltip keeps the whole text. */
  setLabel(text) {
    this.elements.label.textContent = text;
    this.elements.label.title = text;
  }

  describe() {
    const timeline = this.timeline;
    const origin = timeline.recording
      ? `recording ${timeline.source}`
      : `log of ${timeline.conversation_id}`;
    const truncated = timeline.truncated ? ' (truncated)' : '';
    if (timeline.points.length === 0) return `${origin}: no frames`;
    const point = timeline.points[this.index];
    const where = this.travelling
      ? `point ${this.index + 1}/${timeline.points.length} · seq ${point.seq} · ${point.frame?.type ?? ''} · ${clockTime(point.at)}`
      : `live · ${timeline.points.length} points`;
    return `${origin}${truncated} — ${where}`;
  }

  renderPoint() {
    const { actors, frames } = this.elements;
    clear(actors);
    clear(frames);
    const timeline = this.timeline;
    const point = timeline?.points[this.index];
    if (!point) return;
    actors.append(
      h('div', {
        class: 'panel-title',
        text: this.travelling ? `Actors at seq ${point.seq}` : 'Actors at the last point',
      }),
    );
    for (const [path, state] of Object.entries(point.states ?? {})) {
      const chip = h(
        'button',
        { class: 'actor-chip', 'data-path': path, 'data-state': state, title: path },
        h('span', { class: 'chip-path', text: path.replace(/^(conversation|connection):/, '') }),
        h('span', { class: 'badge', text: state }),
      );
      chip.addEventListener('click', () => this.handlers.onPickActor(path));
      actors.append(chip);
    }
    const until = timeline.points.slice(0, this.index + 1);
    frames.append(h('div', { class: 'panel-title', text: `Frames until here (${until.length})` }));
    const list = h('div', { class: 'frame-list' });
    if (until.length > MAX_FRAME_ROWS)
      list.append(
        h('div', {
          class: 'muted small',
          text: `… ${until.length - MAX_FRAME_ROWS} earlier frames`,
        }),
      );
    for (const item of until.slice(-MAX_FRAME_ROWS)) {
      const frame = item.frame ?? {};
      list.append(
        h(
          'div',
          { class: `frame-row frame-${frame.type ?? 'unknown'}`, title: preview(frame, 600) },
          h('span', { class: 'seq', text: item.seq > 0 ? `#${item.seq}` : '—' }),
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

function frameExtra(frame) {
  if (frame.type === 'agent_response_chunk') return preview(String(frame.delta ?? ''), 40);
  if (frame.type === 'agent_response_complete') return preview(String(frame.content ?? ''), 60);
  if (frame.type === 'tool_result') return preview(frame.ok ? frame.result : frame.error, 60);
  if (frame.type === 'tool_call') return preview(frame.arguments, 60);
  return '';
}
