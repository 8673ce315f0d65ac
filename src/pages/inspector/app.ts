/**
 * Over 300 lines because it wires the inspector page's panels to its socket, one handler per message.
 *
 * The inspector page's wiring: one socket to `/ws/inspect`, the actor tree on the left, the
 * selected actor's statechart (and its conversation's answer so far) in the middle, events /
 * context / sequence on the right, and time travel at the bottom. Live data and time travel feed
 * the same views. The controls (buttons, fields, keys) are wired in controls.ts.
 *
 * About 400 lines: it is the one place that routes every protocol message to the views and keeps
 * the selection (subscribe, unsubscribe, leave a timeline) consistent with them; the views, the
 * live actor's state and the diagram panel live in their own modules.
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
import { showTreeInfo, updateExportLink } from './controls.js';
import { ContextView } from './context-view.js';
import { DiagramPanel, type DiagramSubject } from './diagram-panel.js';
import { byId, byTestId, field } from './dom.js';
import { EventsView } from './events-view.js';
import { applyRecords, liveActor, type LiveActor } from './live-actor.js';
import { notice, setStatus, showError } from './notices.js';
import { SequenceView } from './sequence-view.js';
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

/** The inspector page. */
export class InspectorApp {
  readonly metrics: InspectorMetrics = { pages: 0 };
  welcome: Welcome | null = null;
  selected: string | null = null;
  tab: Tab = 'events';
  /** A recording file was sent: the next timeline is that recording. */
  pendingRecording = false;
  private subscribed: string | null = null;
  private live: LiveActor = liveActor();
  private readonly dirty = { context: true, sequence: true };
  readonly tree: ActorTree;
  readonly travel: TimeTravel;
  readonly connection: InspectorConnection;
  private readonly diagram: DiagramPanel;
  private readonly events = new EventsView(byId('events-toolbar'), byTestId('events'));
  private readonly contextView = new ContextView(byTestId('context'));
  private readonly sequence = new SequenceView(byTestId('sequence'));
  private readonly answer = new AnswerView(byTestId('answer'));

  constructor() {
    this.tree = new ActorTree(byTestId('actor-tree'), {
      onSelect: (path) => {
        this.select(path);
      },
      onRendered: () => {
        showTreeInfo(this);
      },
    });
    this.diagram = new DiagramPanel(byTestId('diagram', SVGSVGElement), () => {
      this.metrics.layoutMs ??= {};
      return this.metrics.layoutMs;
    });
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
        setStatus(state, text);
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

  /** Adds an error line under the header. */
  showError(text: string): void {
    showError(text);
  }

  // ---------------------------------------------------------------- messages

  private handle(message: InspectorMessage): void {
    switch (message.type) {
      case 'welcome':
        this.metrics.welcomeAt = performance.now();
        this.welcome = message;
        this.subscribed = null;
        byId('send-form').hidden = !message.dev_mode;
        setStatus(
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
        this.live = { ...liveActor(message.path, message.summary.state), context: message.context };
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
        notice(`sent ${message.event_type} to ${message.path}`);
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
    const change = applyRecords(this.live, records);
    if (this.travel.point) return;
    if (change.diagram) void this.updateDiagram();
    if (change.context) {
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
      this.live = liveActor(live ? path : null, this.tree.get(path)?.state ?? '');
      this.events.clear();
      this.diagram.reset();
    }
    this.dirty.context = true;
    this.updateHeader();
    updateExportLink(this);
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

  // ---------------------------------------------------------------- views

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
  private diagramSubject(): DiagramSubject | null {
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
    await this.diagram.show(this.diagramSubject(), this.welcome?.machines);
    this.live.taken = undefined;
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
    this.diagram.reset();
    this.refresh();
  }
}
