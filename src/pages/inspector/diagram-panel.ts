/**
 * The middle panel's statechart: which machine to draw for a subject (the selected actor live,
 * or an actor at a point of a timeline), and how to mark its state: live, with the transition
 * taken; in the past, with the transition from the previous point's state.
 */
import type { InspectorMessage } from '../../inspector/inspector-protocol.js';
import { byId, kindOfPath } from './dom.js';
import type { TakenTransition } from './events-view.js';
import type { StateNodeJson } from './statechart-graph.js';
import { Statechart } from './statechart.js';

/** What the diagram shows. */
export interface DiagramSubject {
  path: string;
  state: string;
  /** The state at the previous point of a timeline. */
  before: string | undefined;
  historical: boolean;
  /** The transitions of the last microstep (live only). */
  taken: TakenTransition[] | undefined;
}

type Machines = Extract<InspectorMessage, { type: 'welcome' }>['machines'];

/** The statechart panel, its caption and its state badge. */
export class DiagramPanel {
  private readonly chart: Statechart;

  /** @param layoutMs where each machine kind's first layout time is recorded */
  constructor(
    svg: SVGSVGElement,
    private readonly layoutMs: () => Record<string, number>,
  ) {
    this.chart = new Statechart(
      svg,
      () => {
        if (window.ELK === undefined) throw new Error('elk.js did not load');
        return new window.ELK();
      },
      (text) => {
        byId('caption').textContent = text === '' ? '' : `last transition: ${text}`;
      },
    );
  }

  /** Forgets the highlighted states: the next state shown is not a transition. */
  reset(): void {
    this.chart.reset();
  }

  /** Draws the subject's machine (laid out once per kind) and marks its state. */
  async show(subject: DiagramSubject | null, machines: Machines | undefined): Promise<void> {
    if (!subject || !machines) {
      this.chart.hide();
      return;
    }
    const kind = kindOfPath(subject.path);
    const definition = machines[kind] as StateNodeJson | undefined;
    if (!definition) {
      this.chart.hide();
      byId('caption').textContent = `no machine definition for ${kind}`;
      return;
    }
    const started = performance.now();
    await this.chart.show(kind, definition);
    this.layoutMs()[kind] ??= Math.round(performance.now() - started);
    if (subject.historical) {
      // The transition into this point is the one from the previous point's state.
      this.chart.reset();
      if (subject.before !== undefined) {
        this.chart.setState(subject.before, { historical: true, quiet: true });
      }
      const changed = this.chart.setState(subject.state, { historical: true });
      if (!changed && subject.before !== undefined) {
        byId('caption').textContent = `no state change at this point (${subject.path})`;
      }
    } else {
      this.chart.setState(subject.state, subject.taken ? { taken: subject.taken } : {});
    }
    const selectedState = byId('selected-state');
    selectedState.textContent = subject.state;
    selectedState.classList.toggle('historical', subject.historical);
  }
}
