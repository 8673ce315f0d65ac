/**
 * The statechart view: lays a machine's definition out with ELK once per machine kind
 * (statechart-graph.ts builds the graph, statechart-draw.ts draws it), then only toggles
 * classes: the active states, and the last transition taken. Wheel zooms, drag pans, a double
 * click fits the chart again.
 *
 * Over 300 lines because the caption of a change walks the same laid-out graph the highlighting
 * toggles (its edges, labels and the microsteps of one batch); the layout and the drawing are
 * already in statechart-graph.ts and statechart-draw.ts.
 */
import type { ELK } from 'elkjs/lib/elk-api.js';
import { activeStateIds, clear } from './dom.js';
import type { TakenTransition } from './events-view.js';
import { defs, draw, type DrawnChart, type DrawnEdge } from './statechart-draw.js';
import { buildGraph, strip, type StateNodeJson } from './statechart-graph.js';

/** A small chart is not blown up past this scale when fitted. */
const MAX_FIT_SCALE = 1.5;

interface View {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** How to show a state. */
export interface SetStateOptions {
  /** The transitions the microsteps named, in order, to mark instead of guessing. */
  taken?: TakenTransition[];
  /** A state of the past (time travel): drawn in amber. */
  historical?: boolean;
  /** Mark the states, but say nothing in the caption. */
  quiet?: boolean;
}

/** Lays out and draws machine definitions, and highlights the current state. */
export class Statechart {
  /** kind → the drawn chart, once laid out */
  private readonly layouts = new Map<string, Promise<DrawnChart>>();
  private kind: string | null = null;
  private current: (DrawnChart & { kind: string }) | null = null;
  private active = new Set<string>();
  /** The states active before the last change of state. */
  private before = new Set<string>();
  private request = 0;
  private view: View | null = null;
  private zoomed = false;

  /**
   * @param svg the diagram element (`data-testid="diagram"`)
   * @param createElk makes an ELK instance (from the page's `elk.js`)
   * @param onCaption reports the last transition in words
   */
  constructor(
    private readonly svg: SVGSVGElement,
    private readonly createElk: () => ELK,
    private readonly onCaption: (text: string) => void,
  ) {
    new ResizeObserver(() => {
      if (!this.zoomed) this.fit();
    }).observe(svg);
    this.enablePanZoom();
  }

  /** Shows the machine of `kind`; lays it out the first time that kind is shown. */
  async show(kind: string, definition: StateNodeJson): Promise<void> {
    if (this.kind === kind && this.current?.kind === kind) return;
    // A second call for the kind being laid out waits for the same layout: until it is drawn,
    // `current` is still the previous machine's chart, which must not take this kind's states.
    if (this.kind !== kind) this.request += 1;
    this.kind = kind;
    const request = this.request;
    let layout = this.layouts.get(kind);
    if (layout === undefined) {
      layout = this.layout(definition);
      this.layouts.set(kind, layout);
    }
    let drawn: DrawnChart;
    try {
      drawn = await layout;
    } catch (error) {
      this.layouts.delete(kind);
      this.onCaption(`layout failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (request !== this.request || this.current?.kind === kind) return;
    clear(this.svg);
    this.svg.append(defs(), drawn.group);
    this.svg.dataset.kind = kind;
    this.current = { ...drawn, kind };
    this.active = new Set();
    this.before = new Set();
    this.zoomed = false;
    this.fit();
  }

  /** Forgets the highlighted states (another actor is shown): the next state is not a transition. */
  reset(): void {
    this.active = new Set();
    this.before = new Set();
    for (const edge of this.current?.edges ?? []) unmark(edge);
    this.onCaption('');
  }

  /** Hides the diagram (nothing selected). */
  hide(): void {
    this.request += 1;
    this.kind = null;
    this.current = null;
    clear(this.svg);
    this.svg.removeAttribute('data-kind');
  }

  /**
   * Highlights the states of a dotted state value (`working.streaming`). A state change also
   * marks the transition that explains it (or the ones named in `taken`, from a microstep), and
   * tells the caption. Returns whether the state changed.
   */
  setState(state: string, options: SetStateOptions = {}): boolean {
    const drawn = this.current;
    if (!drawn) return false;
    const next = activeStateIds(drawn.machineId, state);
    const previous = this.active;
    const changed = previous.size !== next.size || [...next].some((id) => !previous.has(id));
    this.svg.classList.toggle('historical', options.historical === true);
    this.active = next;
    // The microsteps of a change can arrive after the actor's summary moved the state: steps that
    // start in a state left then explain that change, from the states before it.
    const firstSource = strip(options.taken?.[0]?.source);
    const late = !changed && this.before.has(firstSource) && !next.has(firstSource);
    const from = late ? this.before : previous;
    if (changed) this.before = previous;
    if (!changed && !options.taken) return false;
    for (const [id, group] of drawn.nodes) {
      const isActive = next.has(id);
      group.classList.toggle('active', isActive);
      group.classList.toggle('current', isActive && !hasActiveChild(id, next, drawn));
    }
    const taken =
      options.taken && options.taken.length > 0
        ? options.taken
        : previous.size > 0
          ? explain(drawn, previous, next)
          : [];
    for (const edge of drawn.edges) unmark(edge);
    const marked: DrawnEdge[] = [];
    for (const step of taken) {
      const edge = drawn.edges.find(
        (candidate) =>
          candidate.source === strip(step.source) &&
          candidate.target === strip(step.target) &&
          (step.eventType === undefined || candidate.eventType === step.eventType),
      );
      if (!edge) continue;
      edge.group.classList.add('last', `last-${edge.direction}`);
      // Drawn last so the marked edge is above the others.
      edge.group.parentNode?.append(edge.group);
      marked.push(edge);
    }
    if (options.quiet) return changed;
    const steps = stepsOf(options.taken, marked, drawn);
    this.onCaption(from.size > 0 ? caption(from, next, steps, drawn) : '');
    return changed;
  }

  private async layout(definition: StateNodeJson): Promise<DrawnChart> {
    // Both directions are laid out once; the one that fits the panel best is kept.
    const width = this.svg.clientWidth || 800;
    const height = this.svg.clientHeight || 600;
    const elk = this.createElk();
    const results = await Promise.all(
      (['RIGHT', 'DOWN'] as const).map(async (direction) => {
        const graph = buildGraph(definition, direction);
        const result = await elk.layout(graph.elk);
        const scale = Math.min(
          width / ((result.width ?? 0) + 16),
          height / ((result.height ?? 0) + 40),
        );
        return { graph, result, scale };
      }),
    );
    const best = results.reduce((a, b) => (b.scale > a.scale * 1.05 ? b : a));
    return draw(best.result, best.graph);
  }

  /** Fits the whole chart in the panel. */
  private fit(): void {
    const drawn = this.current;
    if (!drawn) return;
    const panelWidth = this.svg.clientWidth || 800;
    const panelHeight = this.svg.clientHeight || 600;
    const width = drawn.width + 16;
    const height = drawn.height + 16;
    const scale = Math.min(panelWidth / width, panelHeight / height, MAX_FIT_SCALE);
    const viewWidth = panelWidth / scale;
    const viewHeight = panelHeight / scale;
    this.setView({
      x: -8 - (viewWidth - width) / 2,
      y: -8 - (viewHeight - height) / 2,
      width: viewWidth,
      height: viewHeight,
    });
  }

  private setView(view: View): void {
    this.view = view;
    const box = [view.x, view.y, view.width, view.height].map(String).join(' ');
    this.svg.setAttribute('viewBox', box);
  }

  private enablePanZoom(): void {
    const svg = this.svg;
    svg.addEventListener(
      'wheel',
      (event) => {
        if (!this.view) return;
        event.preventDefault();
        const box = svg.getBoundingClientRect();
        const factor = Math.exp(event.deltaY * 0.0015);
        const { x, y, width, height } = this.view;
        const pointX = x + ((event.clientX - box.left) / box.width) * width;
        const pointY = y + ((event.clientY - box.top) / box.height) * height;
        this.zoomed = true;
        this.setView({
          x: pointX - (pointX - x) * factor,
          y: pointY - (pointY - y) * factor,
          width: width * factor,
          height: height * factor,
        });
      },
      { passive: false },
    );
    let drag: { x: number; y: number; view: View } | null = null;
    svg.addEventListener('pointerdown', (event) => {
      if (!this.view || event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, view: this.view };
      svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener('pointermove', (event) => {
      if (!drag) return;
      const ratio = drag.view.width / svg.getBoundingClientRect().width;
      this.zoomed = true;
      this.setView({
        ...drag.view,
        x: drag.view.x - (event.clientX - drag.x) * ratio,
        y: drag.view.y - (event.clientY - drag.y) * ratio,
      });
    });
    const end = () => {
      drag = null;
    };
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointercancel', end);
    svg.addEventListener('dblclick', () => {
      this.zoomed = false;
      this.fit();
    });
  }
}

function unmark(edge: DrawnEdge): void {
  edge.group.classList.remove('last', 'last-forward', 'last-backward');
}

function hasActiveChild(id: string, active: ReadonlySet<string>, drawn: DrawnChart): boolean {
  return (drawn.parents.get(id) ?? []).some((child) => active.has(child));
}

function leafNames(active: ReadonlySet<string>, drawn: DrawnChart): string {
  return [...active]
    .filter((id) => !hasActiveChild(id, active, drawn) && id !== drawn.machineId)
    .map((id) => id.slice(drawn.machineId.length + 1))
    .join(', ');
}

/** A step of the last change: the state it entered and the label of its transition. */
interface Step {
  target: string;
  label: string;
}

/**
 * The last change in words: the states passed through and the transitions that took them there,
 * in order. An eventless edge starts where the one before it ended (`ending`), not at the state
 * left: `working.streaming → ending → idle.occupied on turn.finished [isActiveTurn], then always
 * [hasParticipants]`.
 */
function caption(
  previous: ReadonlySet<string>,
  next: ReadonlySet<string>,
  steps: readonly Step[],
  drawn: DrawnChart,
): string {
  const from = leafNames(previous, drawn);
  const to = leafNames(next, drawn);
  if (steps.length === 0) return from === to ? to : `${from} → ${to}`;
  // A state entered and left within one batch is named by the step that entered it; the last
  // stop is the leaf state now active (a step may enter a compound state such as `working`).
  const stops = [
    from,
    ...steps.slice(0, -1).map((step) => shortName(step.target, drawn)),
    to,
  ].filter((name, index, all) => index === 0 || name !== all[index - 1]);
  const labels = steps
    .map((step) => step.label)
    .filter((label, index, all) => index === 0 || label !== all[index - 1]);
  const path = stops.length > 1 ? stops.join(' → ') : to;
  return `${path} on ${labels.join(', then ')}`;
}

/**
 * The steps of a change: each transition a microstep named, labelled as the chart labels it (an
 * edge, or a line inside its state); or, without microsteps, the edges marked.
 */
function stepsOf(
  taken: readonly TakenTransition[] | undefined,
  marked: readonly DrawnEdge[],
  drawn: DrawnChart,
): Step[] {
  if (taken === undefined || taken.length === 0) return [...marked];
  return taken.map((step) => {
    const source = strip(step.source);
    const target = strip(step.target);
    const known = [...drawn.edges, ...drawn.innerTransitions].find(
      (candidate) =>
        candidate.source === source &&
        candidate.target === target &&
        (step.eventType === undefined || candidate.eventType === step.eventType),
    );
    const label = known?.label ?? (step.eventType === '' ? 'always' : (step.eventType ?? '?'));
    return { target, label };
  });
}

/** A state id without the machine's id: `working.thinking`. */
function shortName(id: string, drawn: DrawnChart): string {
  return id.slice(drawn.machineId.length + 1);
}

/** The transition that best explains a change of state: from a state left (deepest first) to one entered. */
function explain(
  drawn: DrawnChart,
  previous: ReadonlySet<string>,
  next: ReadonlySet<string>,
): TakenTransition[] {
  const entered = new Set([...next].filter((id) => !previous.has(id)));
  const depth = (id: string) => id.split('.').length;
  return drawn.edges
    .filter((edge) => previous.has(edge.source) && entered.has(edge.target))
    .sort((a, b) => depth(b.source) - depth(a.source))
    .slice(0, 1);
}
