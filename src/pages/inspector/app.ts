/**
 * The inspector page's wiring: one socket to `/ws/inspect`, the actor tree on the left, the
 * selected actor's statechart (and its conversation's answer so far) in the middle, events /
 * context / sequence on the right, and time travel at the bottom. Live data and time travel feed
 * the same views. The controls (buttons, fields, keys) are wired in controls.ts.
 */
import type { ELK } from 'elkjs/lib/elk-api.js';
import type {
  ActorSummary,
  InspectionRecord,
  InspectorMessage,
} from '../../inspector/inspector-protocol.js';
import { ActorTree } from './actor-tree.js';
import { AnswerView, answerAt, liveAnswer } from './answer-view.js';
import { InspectorConnection } from './connection.js';
import { ContextView } from './context-view.js';
import { byId, byTestId, field, h, kindOfPath } from './dom.js';
import { EventsView, stateOf, transitionsOf, type TakenTransition } from './events-view.js';
import { SequenceView } from './sequence-view.js';
import { Statechart } from './statechart.js';
import type { StateNodeJson } from './statechart-graph.js';
import { TimeTravel } from './time-travel.js';

const PAGE = 1000;

type Welcome = Extract<InspectorMessage, { type: 'welcome' }>;

/** Timings of the page, for tests and the performance report (`performance.now()` values). */
export interface InspectorMetrics {
  pages: number;
  startedAt?: number;
  openAt?: number;
  welcomeAt?: number;
  firstPageAt?: number;
  firstRowsAt?: number;
  allLoadedAt?: number;
  allRenderedAt?: number;
  timelineAt?: number;
  layoutMs?: Record<string, number>;
}

declare global {
  interface Window {
    /** elkjs, loaded by the page's `/inspector/elk.js` script. */
    ELK?: new () => ELK;
    __inspector?: { metrics: InspectorMetrics; app?: InspectorApp; tree?: ActorTree };
  }
}

/** The right column's tabs. */
export type Tab = 'events' | 'context' | 'sequence';

/** The selected actor as it is live. */
interface Live {
  path: string | null;
  state: string;
  context: unknown;
  previous: unknown;
  taken: TakenTransition[] | undefined;
}

const noLive = (path: string | null = null, state = ''): Live => ({
  path,
  state,
  context: undefined,
  previous: undefined,
  taken: undefined,
});

/** The inspector page. */
export class InspectorApp {
  readonly metrics: InspectorMetrics = { pages: 0 };
  welcome: Welcome | null = null;
  selected: string | null = null;
  tab: Tab = 'events';
  /** A recording file was sent: the next timeline is that recording. */
  pendingRecording = false;
  private subscribed: string | null = null;
  private live: Live = noLive();
  private readonly dirty = { context: true, sequence: true };
  readonly tree: ActorTree;
  readonly travel: TimeTravel;
  readonly connection: InspectorConnection;
  private readonly chart: Statechart;
  private readonly events = new EventsView(byId('events-toolbar'), byTestId('events'));
  private readonly contextView = new ContextView(byTestId('context'));
  private readonly sequence = new SequenceView(byTestId('sequence'));
  private readonly answer = new AnswerView(byTestId('answer'));
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.tree = new ActorTree(byTestId('actor-tree'), {
      onSelect: (path) => {
        this.select(path);
      },
      onRendered: () => {
        this.onTreeRendered();
      },
    });
    this.chart = new Statechart(
      byTestId('diagram', SVGSVGElement),
      () => {
        if (window.ELK === undefined) throw new Error('elk.js did not load');
        return new window.ELK();
      },
      (text) => {
        byId('caption').textContent = text === '' ? '' : `last transition: ${text}`;
      },
    );
    this.travel = new TimeTravel(
      {
        slider: byTestId('timeline-slider', HTMLInputElement),
        label: byId('travel-label'),
        live: byTestId('timeline-live'),
        panels: byId('travel-panels'),
        actors: byId('actors-at'),
        frames: byTestId('frames-until'),
      },
      {
        onPoint: () => {
          this.showPoint();
        },
        onLive: () => {
          this.showLive();
        },
        onPickActor: (path) => {
          this.select(path);
        },
      },
    );
    this.connection = new InspectorConnection({
      onStatus: (state, text) => {
        this.setStatus(state, text);
        if (state !== 'connected') byId('pause-state').textContent = '';
      },
      onOpen: () => {
        this.metrics.openAt = performance.now();
      },
      onMessage: (message) => {
        this.handle(message);
      },
    });
  }

  setStatus(state: string, text: string): void {
    const status = byTestId('status');
    status.dataset.state = state;
    status.textContent = text;
  }

  showError(text: string): void {
    const errors = byId('errors');
    const item = h(
      'div',
      { class: 'error' },
      h('span', { text }),
      h('button', {
        class: 'link',
        text: 'dismiss',
        onclick: () => {
          item.remove();
        },
      }),
    );
    errors.append(item);
    while (errors.children.length > 3) errors.firstElementChild?.remove();
  }

  notice(text: string): void {
    const element = byId('notice');
    element.textContent = text;
    element.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      element.hidden = true;
    }, 3000);
  }

  // ---------------------------------------------------------------- messages

  private handle(message: InspectorMessage): void {
    switch (message.type) {
      case 'welcome':
        this.metrics.welcomeAt = performance.now();
        this.welcome = message;
        this.subscribed = null;
        byId('send-form').hidden = !message.dev_mode;
        this.setStatus(
          'connected',
          `connected · protocol ${String(message.protocol_version)}${message.dev_mode ? ' · development mode' : ''}`,
        );
        this.tree.reset();
        this.tree.scheduleRebuild();
        this.connection.send({ type: 'list', offset: 0, limit: PAGE });
        if (this.selected !== null) this.select(this.selected, { force: true });
        return;
      case 'actors': {
        this.metrics.pages += 1;
        this.metrics.firstPageAt ??= performance.now();
        const next = this.tree.applyPage(message);
        if (next !== null) this.connection.send({ type: 'list', offset: next, limit: PAGE });
        else this.metrics.allLoadedAt ??= performance.now();
        if (
          this.selected !== null &&
          this.tree.get(this.selected) &&
          this.subscribed !== this.selected
        ) {
          this.select(this.selected, { force: true });
        }
        this.updateAnswer();
        return;
      }
      case 'actors.changed':
        this.tree.applyChanges(message);
        this.onSummaries([...message.updated, ...message.added], message.removed);
        return;
      case 'actor':
        if (message.path !== this.subscribed) return;
        this.live = { ...noLive(message.path, message.summary.state), context: message.context };
        this.tree.put(message.summary);
        this.tree.scheduleRender();
        this.events.clear();
        this.events.add(message.recent);
        this.updateHeader();
        this.refresh();
        return;
      case 'events':
        this.onRecords(message.records);
        return;
      case 'paused':
        byId('pause-state').textContent = 'paused: the live stream to this page is stopped';
        return;
      case 'resumed':
        byId('pause-state').textContent =
          message.skipped > 0
            ? `resumed · ${message.skipped.toLocaleString()} records skipped while paused`
            : '';
        return;
      case 'timeline':
        this.metrics.timelineAt = performance.now();
        byId('timeline-status').textContent = '';
        this.travel.load(message, this.pendingRecording);
        this.pendingRecording = false;
        this.dirty.sequence = true;
        if (this.travel.timeline?.recording === true) {
          this.select(`conversation:${message.conversation_id}`);
        }
        this.refresh();
        return;
      case 'sent':
        this.notice(`sent ${message.event_type} to ${message.path}`);
        return;
      case 'error': {
        byId('timeline-status').textContent = '';
        const inReplyTo =
          message.in_reply_to === undefined ? '' : ` (in reply to ${message.in_reply_to})`;
        this.showError(`${message.code}: ${message.message}${inReplyTo}`);
        return;
      }
    }
  }

  private onSummaries(summaries: readonly ActorSummary[], removed: readonly string[]): void {
    this.updateAnswer();
    if (this.selected === null) return;
    for (const summary of summaries) {
      if (
        summary.path === this.selected &&
        summary.path === this.live.path &&
        summary.state !== this.live.state
      ) {
        this.live.state = summary.state;
        this.live.taken = undefined;
        if (!this.travel.point) void this.updateDiagram();
      }
    }
    if (removed.includes(this.selected) || summaries.some((s) => s.path === this.selected)) {
      this.updateHeader();
    }
  }

  private onRecords(records: readonly InspectionRecord[]): void {
    this.events.add(records);
    let diagram = false;
    let context = false;
    for (const record of records) {
      if (record.path !== this.live.path) continue;
      const state = stateOf(record.detail);
      const taken = record.kind === 'microstep' ? transitionsOf(record.detail) : [];
      if (state !== undefined && state !== this.live.state) {
        this.live.state = state;
        diagram = true;
      }
      if (taken.length > 0) {
        this.live.taken = taken;
        diagram = true;
      }
      const snapshotContext = field(record.detail, 'context');
      if (record.kind === 'snapshot' && typeof snapshotContext === 'object' && snapshotContext) {
        this.live.previous = this.live.context;
        this.live.context = snapshotContext;
        context = true;
      }
    }
    if (this.travel.point) return;
    if (diagram) void this.updateDiagram();
    if (context) {
      this.dirty.context = true;
      if (this.tab === 'context') this.renderContext();
    }
  }

  // ---------------------------------------------------------------- selection

  /** The conversation path of an actor path: itself, its connection's, or its timeline's. */
  conversationOf(path: string | null): string | null {
    if (path === null) return null;
    if (path.startsWith('conversation:')) return path;
    const summary = this.tree.get(path);
    if (summary?.conversation) return summary.conversation;
    const timeline = this.travel.timeline;
    if (!timeline) return null;
    // Actors of a timeline (a recording's connections too) belong to its conversation.
    timeline.paths ??= new Set(timeline.points.flatMap((point) => Object.keys(point.states)));
    return timeline.paths.has(path) ? `conversation:${timeline.conversation_id}` : null;
  }

  select(path: string, { force = false } = {}): void {
    const changed = path !== this.selected;
    this.selected = path;
    this.tree.setSelected(path);
    const timeline = this.travel.timeline;
    if (
      changed &&
      timeline &&
      this.conversationOf(path) !== `conversation:${timeline.conversation_id}`
    ) {
      this.travel.unload();
      this.tree.setOverrides(null);
      document.body.classList.remove('travelling');
      this.dirty.sequence = true;
    }
    const live = this.tree.get(path) !== undefined;
    if ((changed || force) && this.connection.open) {
      if (this.subscribed !== null && this.subscribed !== path) {
        this.connection.send({ type: 'unsubscribe', path: this.subscribed });
      }
      this.subscribed = null;
      if (live) {
        this.connection.send({ type: 'subscribe', path });
        this.subscribed = path;
      }
    }
    if (changed) {
      this.live = noLive(live ? path : null, this.tree.get(path)?.state ?? '');
      this.events.clear();
      this.chart.reset();
    }
    this.dirty.context = true;
    this.updateHeader();
    this.updateExport();
    this.refresh();
  }

  private updateHeader(): void {
    const path = this.selected;
    const summary = this.tree.get(path);
    byId('selected-title').textContent = path ?? 'Select an actor';
    const user = summary?.user_id == null ? '' : ` · user ${summary.user_id}`;
    const parent = summary?.parent == null ? '' : ` · child of ${summary.parent}`;
    // A hibernated connection has no actor: its next event (a sent one too) wakes one.
    const wakes = summary?.status === 'hibernated' ? ' · wakes on its next event' : '';
    byId('selected-meta').textContent = summary
      ? `${summary.kind} · ${summary.status}${user}${parent}${wakes}`
      : path === null
        ? ''
        : this.travel.timeline
          ? 'from the loaded timeline'
          : 'not running';
    byId('empty-hint').hidden = path !== null;
  }

  /** Points the export link at the selected conversation's recording. */
  updateExport(): void {
    const link = byTestId('export-link', HTMLAnchorElement);
    const conversation = this.conversationOf(this.selected);
    byTestId('timeline-load', HTMLButtonElement).disabled = conversation === null;
    if (conversation === null) {
      link.removeAttribute('href');
      link.classList.add('disabled');
      link.title = 'Select a conversation to export its recording';
      return;
    }
    const id = conversation.slice('conversation:'.length);
    const token = byId('token', HTMLInputElement).value.trim();
    // The export route takes the chat credentials: `?user_id=` in development mode, else a token.
    const query = this.welcome?.dev_mode
      ? '?user_id=inspector'
      : token === ''
        ? ''
        : `?token=${encodeURIComponent(token)}`;
    link.href = `/api/conversations/${encodeURIComponent(id)}/export${query}`;
    link.setAttribute('download', `${id}.jsonl`);
    link.classList.remove('disabled');
    link.title = `Download ${id} as a recording for parley replay`;
  }

  // ---------------------------------------------------------------- views

  private onTreeRendered(): void {
    const { tree, metrics } = this;
    if (metrics.firstRowsAt === undefined && tree.flat.length > 0) {
      metrics.firstRowsAt = performance.now();
    }
    if (metrics.allLoadedAt !== undefined && metrics.allRenderedAt === undefined) {
      metrics.allRenderedAt = performance.now();
    }
    const count = (value: number) => value.toLocaleString();
    const loading = tree.loading ? ` · loading ${count(tree.total)}…` : '';
    const matching = tree.filter === '' ? '' : ` · ${count(tree.flat.length)} rows match`;
    byId('tree-info').textContent = `${count(tree.actors.size)} actors${loading}${matching}`;
    const toggle = byTestId('idle-toggle', HTMLButtonElement);
    const folded = tree.foldedIdle;
    toggle.hidden = folded === 0 && toggle.getAttribute('aria-pressed') !== 'true';
    toggle.textContent =
      toggle.getAttribute('aria-pressed') === 'true'
        ? 'Fold idle conversations away'
        : `Show ${count(folded)} idle conversation${folded === 1 ? '' : 's'}`;
  }

  /** The answer strip follows the selected actor's conversation, live or at the travel point. */
  private updateAnswer(): void {
    const point = this.travel.point;
    if (point) {
      this.answer.show(answerAt(point.context));
      return;
    }
    const conversation = this.conversationOf(this.selected);
    this.answer.show(liveAnswer(this.tree.get(conversation)?.activity));
  }

  /** What the diagram shows: the selected actor, or the timeline's conversation. */
  private diagramSubject() {
    const point = this.travel.point;
    const timeline = this.travel.timeline;
    if (point && timeline) {
      const states = point.states;
      const path =
        this.selected !== null && this.selected in states
          ? this.selected
          : `conversation:${timeline.conversation_id}`;
      const before = this.travel.previousPoint?.states[path];
      return { path, state: states[path] ?? '', before, historical: true, taken: undefined };
    }
    if (this.selected === null) return null;
    const { state, taken } = this.live;
    return { path: this.selected, state, before: undefined, historical: false, taken };
  }

  private async updateDiagram(): Promise<void> {
    const subject = this.diagramSubject();
    const machines = this.welcome?.machines;
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
    this.metrics.layoutMs ??= {};
    this.metrics.layoutMs[kind] ??= Math.round(performance.now() - started);
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
    this.live.taken = undefined;
    const selectedState = byId('selected-state');
    selectedState.textContent = subject.state;
    selectedState.classList.toggle('historical', subject.historical);
  }

  private renderContext(): void {
    this.dirty.context = false;
    const point = this.travel.point;
    const timeline = this.travel.timeline;
    if (point && timeline) {
      const frameType = field(point.frame, 'type');
      this.contextView.show(
        `conversation:${timeline.conversation_id} at seq ${String(point.seq)} (after ${typeof frameType === 'string' ? frameType : 'frame'})`,
        point.context,
        this.travel.previousPoint?.context,
      );
    } else if (this.selected !== null) {
      this.contextView.show(`${this.selected} (live)`, this.live.context, this.live.previous);
    } else this.contextView.show('Nothing selected', undefined, undefined);
  }

  private renderSequence(): void {
    this.dirty.sequence = false;
    const timeline = this.travel.timeline;
    if (!timeline) this.sequence.show('', []);
    else {
      this.sequence.show(
        timeline.recording
          ? `recording ${timeline.source}`
          : `conversation:${timeline.conversation_id}`,
        timeline.entries,
      );
    }
    this.sequence.setPosition(this.travel.position);
  }

  /** Redraws what the current tab and the diagram show. */
  refresh(): void {
    void this.updateDiagram();
    this.updateAnswer();
    if (this.tab === 'context') this.renderContext();
    if (this.tab === 'sequence') {
      if (this.dirty.sequence) this.renderSequence();
      else this.sequence.setPosition(this.travel.position);
    }
  }

  private showPoint(): void {
    this.tree.setOverrides(this.travel.point?.states ?? null);
    this.dirty.context = true;
    document.body.classList.add('travelling');
    this.refresh();
  }

  private showLive(): void {
    this.tree.setOverrides(null);
    this.dirty.context = true;
    document.body.classList.remove('travelling');
    this.chart.reset();
    this.refresh();
  }
}
