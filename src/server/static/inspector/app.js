/**
 * The inspector page's wiring: one socket to `/ws/inspect`, the actor tree on the left, the
 * selected actor's statechart in the middle, events / context / sequence on the right, and time
 * travel at the bottom. Live data and time travel feed the same views.
 *
 * Over 500 lines: it is the one place that routes every protocol message to every view, and a
 * second routing file would split each message's handling in two. The views themselves live in
 * their own modules. To split next: the time-travel wiring (about 120 lines) into its module.
 */
import { ActorTree } from './actor-tree.js';
import { InspectorConnection } from './connection.js';
import { ContextView } from './context-view.js';
import { debounce, h, kindOfPath } from './dom.js';
import { EventsView, stateOf, transitionsOf } from './events-view.js';
import { SequenceView } from './sequence-view.js';
import { Statechart } from './statechart.js';
import { TimeTravel } from './time-travel.js';

const PAGE = 1000;
const TOKEN_KEY = 'parley.inspector.token';

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const byId = (id) => document.getElementById(id);

/** Timings of the page, for tests and the performance report. */
const metrics = { pages: 0 };
window.__inspector = { metrics };

/** Starts the inspector page. */
export function start() {
  const app = {
    welcome: null,
    selected: null,
    subscribed: null,
    /** Live view of the selected actor. */
    live: { path: null, state: '', context: undefined, previous: undefined, taken: undefined },
    paused: false,
    tab: 'events',
    dirty: { context: true, sequence: true },
  };

  const status = $('status');
  const setStatus = (kind, text) => {
    status.dataset.state = kind;
    status.textContent = text;
  };
  const showError = (text) => {
    const errors = byId('errors');
    const item = h(
      'div',
      { class: 'error' },
      h('span', { text }),
      h('button', { class: 'link', text: 'dismiss', onclick: () => item.remove() }),
    );
    errors.append(item);
    while (errors.children.length > 3) errors.firstElementChild.remove();
  };
  const notice = (text) => {
    const element = byId('notice');
    element.textContent = text;
    element.hidden = false;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => (element.hidden = true), 3000);
  };

  const tree = new ActorTree($('actor-tree'), {
    onSelect: (path) => select(path),
    onRendered: () => {
      if (metrics.firstRowsAt === undefined && tree.flat.length > 0) {
        metrics.firstRowsAt = performance.now();
      }
      if (metrics.allLoadedAt !== undefined && metrics.allRenderedAt === undefined) {
        metrics.allRenderedAt = performance.now();
      }
      byId('tree-info').textContent =
        `${tree.actors.size.toLocaleString()} actors${tree.loading ? ` · loading ${tree.total.toLocaleString()}…` : ''}${tree.filter ? ` · ${tree.flat.length.toLocaleString()} rows match` : ''}`;
    },
  });
  const chart = new Statechart(
    $('diagram'),
    () => new window.ELK(),
    (text) => {
      byId('caption').textContent = text === '' ? '' : `last transition: ${text}`;
    },
  );
  const events = new EventsView(byId('events-toolbar'), $('events'));
  const contextView = new ContextView($('context'));
  const sequence = new SequenceView($('sequence'));
  const travel = new TimeTravel(
    {
      slider: $('timeline-slider'),
      label: byId('travel-label'),
      live: $('timeline-live'),
      panels: byId('travel-panels'),
      actors: byId('actors-at'),
      frames: $('frames-until'),
    },
    {
      onPoint: () => showPoint(),
      onLive: () => showLive(),
      onPickActor: (path) => select(path),
    },
  );

  const connection = new InspectorConnection({
    onStatus: (kind, text) => {
      setStatus(kind, text);
      if (kind !== 'connected') byId('pause-state').textContent = '';
    },
    onOpen: () => {
      metrics.openAt = performance.now();
    },
    onMessage: (message) => handle(message),
  });

  // ---------------------------------------------------------------- messages

  function handle(message) {
    switch (message.type) {
      case 'welcome':
        metrics.welcomeAt = performance.now();
        app.welcome = message;
        app.subscribed = null;
        app.paused = false;
        byId('send-form').hidden = !message.dev_mode;
        setStatus(
          'connected',
          `connected · protocol ${message.protocol_version}${message.dev_mode ? ' · development mode' : ''}`,
        );
        tree.reset();
        tree.scheduleRebuild();
        connection.send({ type: 'list', offset: 0, limit: PAGE });
        if (app.selected) select(app.selected, { force: true });
        return;
      case 'actors': {
        metrics.pages += 1;
        metrics.firstPageAt ??= performance.now();
        const next = tree.applyPage(message);
        if (next !== null) connection.send({ type: 'list', offset: next, limit: PAGE });
        else metrics.allLoadedAt ??= performance.now();
        if (app.selected && tree.get(app.selected) && app.subscribed !== app.selected)
          select(app.selected, { force: true });
        return;
      }
      case 'actors.changed':
        tree.applyChanges(message);
        onSummaries(message.updated.concat(message.added), message.removed);
        return;
      case 'actor':
        if (message.path !== app.subscribed) return;
        app.live = {
          path: message.path,
          state: message.summary.state,
          context: message.context,
          previous: undefined,
          taken: undefined,
        };
        tree.put(message.summary);
        tree.scheduleRender();
        events.clear();
        events.add(message.recent ?? []);
        updateHeader();
        refresh();
        return;
      case 'events':
        onRecords(message.records ?? []);
        return;
      case 'paused':
        byId('pause-state').textContent = 'paused: the live stream to this page is stopped';
        return;
      case 'resumed':
        byId('pause-state').textContent = message.skipped
          ? `resumed · ${message.skipped.toLocaleString()} records skipped while paused`
          : '';
        return;
      case 'timeline':
        metrics.timelineAt = performance.now();
        byId('timeline-status').textContent = '';
        travel.load(message, app.pendingRecording === true);
        app.pendingRecording = false;
        app.dirty.sequence = true;
        if (travel.timeline.recording) select(`conversation:${message.conversation_id}`);
        refresh();
        return;
      case 'sent':
        notice(`sent ${message.event_type} to ${message.path}`);
        return;
      case 'error':
        byId('timeline-status').textContent = '';
        showError(
          `${message.code}: ${message.message}${message.in_reply_to ? ` (in reply to ${message.in_reply_to})` : ''}`,
        );
        return;
      default:
        return;
    }
  }

  function onSummaries(summaries, removed) {
    if (!app.selected) return;
    for (const summary of summaries) {
      if (
        summary.path === app.selected &&
        summary.path === app.live.path &&
        summary.state !== app.live.state
      ) {
        app.live.state = summary.state;
        app.live.taken = undefined;
        if (!travel.point) updateDiagram();
      }
    }
    if (removed.includes(app.selected)) updateHeader();
    else if (summaries.some((summary) => summary.path === app.selected)) updateHeader();
  }

  function onRecords(records) {
    events.add(records);
    let diagram = false;
    let context = false;
    for (const record of records) {
      if (record.path !== app.live.path) continue;
      const detail = record.detail ?? {};
      const state = stateOf(detail);
      const taken = record.kind === 'microstep' ? transitionsOf(detail) : [];
      if (state !== undefined && state !== app.live.state) {
        app.live.state = state;
        diagram = true;
      }
      if (taken.length > 0) {
        app.live.taken = taken;
        diagram = true;
      }
      if (record.kind === 'snapshot' && detail.context && typeof detail.context === 'object') {
        app.live.previous = app.live.context;
        app.live.context = detail.context;
        context = true;
      }
    }
    if (travel.point) return;
    if (diagram) updateDiagram();
    if (context) {
      app.dirty.context = true;
      if (app.tab === 'context') renderContext();
    }
  }

  // ---------------------------------------------------------------- selection

  function conversationOf(path) {
    if (!path) return null;
    if (path.startsWith('conversation:')) return path;
    const summary = tree.get(path);
    if (summary?.conversation) return summary.conversation;
    const timeline = travel.timeline;
    if (!timeline) return null;
    // Actors of a timeline (a recording's connections too) belong to its conversation.
    timeline.paths ??= new Set(timeline.points.flatMap((point) => Object.keys(point.states ?? {})));
    return timeline.paths.has(path) ? `conversation:${timeline.conversation_id}` : null;
  }

  function select(path, { force = false } = {}) {
    const changed = path !== app.selected;
    app.selected = path;
    tree.setSelected(path);
    if (
      changed &&
      travel.timeline &&
      conversationOf(path) !== `conversation:${travel.timeline.conversation_id}`
    ) {
      travel.unload();
      tree.setOverrides(null);
      document.body.classList.remove('travelling');
      app.dirty.sequence = true;
    }
    const live = tree.get(path) !== undefined;
    if ((changed || force) && connection.open) {
      if (app.subscribed && app.subscribed !== path)
        connection.send({ type: 'unsubscribe', path: app.subscribed });
      app.subscribed = null;
      if (live && (force || app.subscribed !== path)) {
        connection.send({ type: 'subscribe', path });
        app.subscribed = path;
      }
    }
    if (changed) {
      app.live = {
        path: live ? path : null,
        state: tree.get(path)?.state ?? '',
        context: undefined,
        previous: undefined,
        taken: undefined,
      };
      events.clear();
      chart.reset();
    }
    app.dirty.context = true;
    updateHeader();
    updateExport();
    refresh();
  }

  function updateHeader() {
    const path = app.selected;
    const summary = path ? tree.get(path) : undefined;
    byId('selected-title').textContent = path ?? 'Select an actor';
    const parent = summary?.parent ? ` · child of ${summary.parent}` : '';
    // A hibernated connection has no actor: its next event (a sent one too) wakes one.
    const wakes = summary?.status === 'hibernated' ? ' · wakes on its next event' : '';
    byId('selected-meta').textContent = summary
      ? `${summary.kind} · ${summary.status}${parent}${wakes}`
      : path
        ? travel.timeline
          ? 'from the loaded timeline'
          : 'not running'
        : '';
    byId('empty-hint').hidden = path !== null;
  }

  function updateExport() {
    const link = $('export-link');
    const conversation = conversationOf(app.selected);
    const load = $('timeline-load');
    load.disabled = conversation === null;
    if (conversation === null) {
      link.removeAttribute('href');
      link.classList.add('disabled');
      link.title = 'Select a conversation to export its recording';
      return;
    }
    const id = conversation.slice('conversation:'.length);
    const token = byId('token').value.trim();
    // The export route takes the chat credentials: `?user_id=` in development mode, else a token.
    const query = app.welcome?.dev_mode
      ? '?user_id=inspector'
      : token !== ''
        ? `?token=${encodeURIComponent(token)}`
        : '';
    link.href = `/api/conversations/${encodeURIComponent(id)}/export${query}`;
    link.setAttribute('download', `${id}.jsonl`);
    link.classList.remove('disabled');
    link.title = `Download ${id} as a recording for parley replay`;
  }

  // ---------------------------------------------------------------- views

  /** What the diagram shows: the selected actor, or the timeline's conversation. */
  function diagramSubject() {
    const point = travel.point;
    if (point) {
      const states = point.states ?? {};
      const path =
        app.selected && app.selected in states
          ? app.selected
          : `conversation:${travel.timeline.conversation_id}`;
      const index = travel.index;
      const before = index > 0 ? travel.timeline.points[index - 1].states?.[path] : undefined;
      return { path, state: states[path] ?? '', before, historical: true };
    }
    if (!app.selected) return null;
    return { path: app.selected, state: app.live.state, historical: false, taken: app.live.taken };
  }

  async function updateDiagram() {
    const subject = diagramSubject();
    const machines = app.welcome?.machines;
    if (!subject || !machines) {
      chart.hide();
      return;
    }
    const kind = kindOfPath(subject.path);
    const definition = machines[kind];
    if (!definition) {
      chart.hide();
      byId('caption').textContent = `no machine definition for ${kind}`;
      return;
    }
    const started = performance.now();
    await chart.show(kind, definition);
    metrics.layoutMs ??= {};
    metrics.layoutMs[kind] ??= Math.round(performance.now() - started);
    if (subject.historical) {
      // The transition into this point is the one from the previous point's state.
      chart.reset();
      if (subject.before !== undefined) {
        chart.setState(subject.before, { historical: true, quiet: true });
      }
      const changed = chart.setState(subject.state, { historical: true });
      if (!changed && subject.before !== undefined) {
        byId('caption').textContent = `no state change at this point (${subject.path})`;
      }
    } else {
      chart.setState(subject.state, {
        historical: false,
        ...(subject.taken ? { taken: subject.taken } : {}),
      });
    }
    app.live.taken = undefined;
    byId('selected-state').textContent = subject.state === '' ? '' : subject.state;
    byId('selected-state').classList.toggle('historical', subject.historical);
  }

  function renderContext() {
    app.dirty.context = false;
    const point = travel.point;
    if (point) {
      const previous =
        travel.index > 0 ? travel.timeline.points[travel.index - 1].context : undefined;
      contextView.show(
        `conversation:${travel.timeline.conversation_id} at seq ${point.seq} (after ${point.frame?.type ?? 'frame'})`,
        point.context,
        previous,
      );
    } else if (app.selected) {
      contextView.show(`${app.selected} (live)`, app.live.context, app.live.previous);
    } else contextView.show('Nothing selected', undefined, undefined);
  }

  function renderSequence() {
    app.dirty.sequence = false;
    const timeline = travel.timeline;
    if (!timeline) sequence.show('', []);
    else
      sequence.show(
        timeline.recording
          ? `recording ${timeline.source}`
          : `conversation:${timeline.conversation_id}`,
        timeline.entries,
      );
    sequence.setPosition(travel.position);
  }

  function refresh() {
    void updateDiagram();
    if (app.tab === 'context') renderContext();
    if (app.tab === 'sequence')
      app.dirty.sequence ? renderSequence() : sequence.setPosition(travel.position);
  }

  function showPoint() {
    tree.setOverrides(travel.point?.states ?? null);
    app.dirty.context = true;
    document.body.classList.add('travelling');
    refresh();
  }

  function showLive() {
    tree.setOverrides(null);
    app.dirty.context = true;
    document.body.classList.remove('travelling');
    chart.reset();
    refresh();
  }

  // ---------------------------------------------------------------- controls

  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener('click', () => {
      app.tab = tab.dataset.tab;
      // The sequence diagram needs room for its lifelines: the right column widens.
      document.body.classList.toggle('wide-right', app.tab === 'sequence');
      for (const other of document.querySelectorAll('[role="tab"]'))
        other.setAttribute('aria-selected', String(other === tab));
      for (const panel of document.querySelectorAll('[role="tabpanel"]'))
        panel.hidden = panel.id !== `tab-${app.tab}`;
      refresh();
    });
  }

  const search = $('actor-search');
  search.addEventListener(
    'input',
    debounce(() => tree.setFilter(search.value), 80),
  );

  $('pause').addEventListener('click', () => {
    if (connection.send({ type: 'pause' })) {
      app.paused = true;
      byId('pause-state').textContent = 'paused';
      document.body.classList.add('paused');
    }
  });
  $('resume').addEventListener('click', () => {
    if (connection.send({ type: 'resume' })) {
      app.paused = false;
      byId('pause-state').textContent = '';
      document.body.classList.remove('paused');
    }
  });

  $('timeline-load').addEventListener('click', () => {
    const conversation = conversationOf(app.selected);
    if (conversation === null) return;
    app.pendingRecording = false;
    byId('timeline-status').textContent = 'loading…';
    connection.send({
      type: 'timeline',
      conversation_id: conversation.slice('conversation:'.length),
    });
  });

  $('recording-file').addEventListener('change', async (event) => {
    const file = event.target.files?.[0];
    if (!file) return;
    const text = await file.text();
    app.pendingRecording = true;
    byId('timeline-status').textContent = `loading ${file.name}…`;
    if (!connection.send({ type: 'load_recording', name: file.name, text }))
      showError('Not connected: the recording could not be sent.');
    event.target.value = '';
  });

  byId('send-button').addEventListener('click', () => {
    if (!app.selected) return showError('Select an actor first.');
    let event;
    try {
      event = JSON.parse(byId('send-event').value);
    } catch (error) {
      return showError(`The event is not valid JSON: ${error.message}`);
    }
    if (!event || typeof event !== 'object' || typeof event.type !== 'string')
      return showError('The event needs a string "type".');
    connection.send({ type: 'send', path: app.selected, event });
  });

  const token = byId('token');
  token.value = localStorage.getItem(TOKEN_KEY) ?? '';
  const connect = () => {
    localStorage.setItem(TOKEN_KEY, token.value.trim());
    updateExport();
    connection.connect(token.value.trim());
  };
  byId('connect').addEventListener('click', connect);
  token.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') connect();
  });

  document.addEventListener('keydown', (event) => {
    if (
      !travel.timeline ||
      event.target instanceof HTMLInputElement ||
      event.target instanceof HTMLTextAreaElement
    )
      return;
    if (event.key === '[' || event.key === ']')
      travel.go(
        (travel.travelling ? travel.index : travel.timeline.points.length - 1) +
          (event.key === ']' ? 1 : -1),
      );
  });

  updateHeader();
  updateExport();
  travel.unload();
  metrics.startedAt = performance.now();
  connection.connect(token.value.trim());
  window.__inspector.app = app;
  window.__inspector.tree = tree;
}
