/**
 * The "Sequence" tab: draws a conversation's sequence diagram (sequence-model.ts builds it) as
 * SVG, a head row of lifeline names that stays in view and a body of arrows, and dims what had
 * not happened yet at the time-travel point.
 */
import { clear, h, preview, s, textWidth } from './dom.js';
import { buildSequence, type Arrow } from './sequence-model.js';

const COLUMN = 170;
const ROW = 26;
const HEAD = 44;
const MAX_ARROWS = 3000;

/** The sequence diagram view. */
export class SequenceView {
  private arrowGroups: SVGGElement[] = [];

  /** @param container `data-testid="sequence"` */
  constructor(private readonly container: HTMLElement) {}

  /** Draws the diagram of these entries (or a hint when there are none). */
  show(title: string, entries: readonly Record<string, unknown>[]): void {
    clear(this.container);
    this.arrowGroups = [];
    if (entries.length === 0) {
      this.container.append(
        h('p', {
          class: 'muted',
          text: 'Load a timeline (bottom bar) or a recording to see the sequence of this conversation.',
        }),
      );
      return;
    }
    const built = buildSequence(entries);
    const lanes = [...built.clients, 'conversation', 'model', 'tools'];
    const lanesX = new Map(lanes.map((lane, index) => [lane, 80 + index * COLUMN]));
    const conversationX = lanesX.get('conversation') ?? 80;
    lanesX.set('(nobody)', conversationX - COLUMN / 2);
    const x = (lane: string | undefined) =>
      (lane === undefined ? undefined : lanesX.get(lane)) ?? conversationX;
    const arrows = built.arrows.slice(0, MAX_ARROWS);
    const width = 80 + lanes.length * COLUMN;
    const height = arrows.length * ROW + 20;

    const head = s('svg', {
      class: 'seq-head',
      width,
      height: HEAD,
      viewBox: `0 0 ${String(width)} ${String(HEAD)}`,
    });
    for (const lane of lanes) {
      const isClient = built.clients.includes(lane);
      const name = isClient ? (built.userOf.get(lane) ?? 'client') : lane;
      const sub = isClient ? lane : '';
      const boxWidth = Math.max(textWidth(name, 12, 600), textWidth(sub, 10)) + 20;
      head.append(
        s(
          'g',
          { class: `lane-head lane-${isClient ? 'client' : lane}` },
          s('rect', { x: x(lane) - boxWidth / 2, y: 4, width: boxWidth, height: 36, rx: 6 }),
          s('text', {
            x: x(lane),
            y: sub === '' ? 26 : 20,
            'text-anchor': 'middle',
            class: 'lane-title',
            text: name,
          }),
          sub === ''
            ? null
            : s('text', {
                x: x(lane),
                y: 33,
                'text-anchor': 'middle',
                class: 'lane-sub',
                text: sub,
              }),
        ),
      );
    }
    const body = s('svg', {
      class: 'seq-body',
      width,
      height,
      viewBox: `0 0 ${String(width)} ${String(height)}`,
    });
    body.append(arrowMarker());
    for (const lane of lanes) {
      body.append(s('line', { class: 'lifeline', x1: x(lane), x2: x(lane), y1: 0, y2: height }));
    }
    arrows.forEach((arrow, index) => {
      const group = drawArrow(arrow, index * ROW + 20, x);
      body.append(group);
      this.arrowGroups.push(group);
    });
    const caption = h(
      'div',
      { class: 'seq-caption' },
      h('strong', { text: title }),
      ` · ${String(entries.length)} log entries → ${String(built.arrows.length)} arrows`,
    );
    if (built.arrows.length > MAX_ARROWS) {
      caption.append(h('span', { class: 'warn', text: ` (first ${String(MAX_ARROWS)} shown)` }));
    }
    this.container.append(
      caption,
      h('div', { class: 'seq-scroll' }, head, h('div', { class: 'seq-body-scroll' }, body)),
    );
  }

  /** Dims what happened after log position `position` (time travel); null shows everything. */
  setPosition(position: number | null): void {
    let current: SVGGElement | undefined;
    for (const group of this.arrowGroups) {
      const first = Number(group.dataset.position);
      const future = position !== null && first > position;
      group.classList.toggle('future', future);
      group.classList.remove('now');
      if (position !== null && !future) current = group;
    }
    if (current === undefined) return;
    current.classList.add('now');
    const scroller = this.container.querySelector('.seq-body-scroll');
    const y = Number(
      current.querySelector('line,path,text')?.getAttribute('y1') ??
        current.querySelector('text')?.getAttribute('y') ??
        0,
    );
    if (
      scroller !== null &&
      (y < scroller.scrollTop || y > scroller.scrollTop + scroller.clientHeight - ROW)
    ) {
      scroller.scrollTop = Math.max(0, y - scroller.clientHeight / 2);
    }
  }
}

function arrowMarker(): SVGDefsElement {
  return s(
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
  );
}

/** One arrow at height `y`: a line to the farthest recipient, a tip at every other one, a label. */
function drawArrow(arrow: Arrow, y: number, x: (lane: string | undefined) => number): SVGGElement {
  const kind = arrow.note === undefined ? `kind-${(arrow.kind ?? '').replace(' ', '-')}` : 'note';
  const group = s('g', { class: `arrow ${kind}` });
  group.dataset.position = String(arrow.position);
  group.dataset.lastPosition = String(arrow.lastPosition);
  if (arrow.note !== undefined) {
    group.append(
      s('text', {
        x: x('conversation'),
        y: y - 4,
        'text-anchor': 'middle',
        class: 'note-text',
        text: arrow.note,
      }),
    );
    return group;
  }
  const fromX = x(arrow.from);
  const targets = (arrow.to ?? []).map((lane) => x(lane));
  const farthest = targets.reduce(
    (best, value) => (Math.abs(value - fromX) > Math.abs(best - fromX) ? value : best),
    targets[0] ?? fromX,
  );
  const self = farthest === fromX;
  group.append(
    self
      ? s('path', {
          d: `M${String(fromX)},${String(y - 6)} h24 v10 h-22`,
          'marker-end': 'url(#seq-arrow)',
        })
      : s('line', { x1: fromX, x2: farthest, y1: y, y2: y, 'marker-end': 'url(#seq-arrow)' }),
  );
  // A broadcast frame shows a tip at every recipient it passes.
  for (const target of targets) {
    if (target === farthest) continue;
    const direction = Math.sign(target - fromX);
    const back = target - direction * 6;
    group.append(
      s('path', {
        class: 'tip',
        d: `M${String(back)},${String(y - 3.5)} L${String(target)},${String(y)} L${String(back)},${String(y + 3.5)} z`,
      }),
    );
  }
  let label = arrow.label ?? '';
  if (arrow.count > 1) {
    label =
      arrow.kind === 'model'
        ? `text ×${String(arrow.count)} tokens`
        : `${label} ×${String(arrow.count)}`;
  }
  if (arrow.seq !== undefined) {
    const range =
      arrow.count > 1 && arrow.lastSeq !== undefined && arrow.lastSeq !== arrow.seq
        ? `–${String(arrow.lastSeq)}`
        : '';
    label = `#${String(arrow.seq)}${range} ${label}`;
  }
  group.append(
    s('text', {
      x: self ? fromX + 30 : (fromX + farthest) / 2,
      y: y - 4,
      'text-anchor': self ? 'start' : 'middle',
      class: 'arrow-label',
      text: label,
    }),
  );
  const tooltip = `${label}\n${arrow.text === undefined ? preview(arrow.detail ?? {}, 400) : preview(arrow.text, 400)}`;
  group.append(s('title', { text: tooltip }));
  return group;
}
