/**
 * The inspector page's controls: the tabs, the actor search and the idle fold (and the line
 * under them), Pause and Resume, loading a timeline or a recording, the export link, sending an
 * event (development mode), the admin token, and the `[` `]` keys that step through time.
 */
import type { InspectorApp, Tab } from './app.js';
import { byId, byTestId, debounce } from './dom.js';

const TOKEN_KEY = 'parley.inspector.token';

/** Wires every control of the page to `app`, then connects. */
export function wireControls(app: InspectorApp): void {
  const { connection, tree, travel } = app;

  for (const tab of document.querySelectorAll<HTMLElement>('[role="tab"]')) {
    tab.addEventListener('click', () => {
      app.tab = (tab.dataset.tab ?? 'events') as Tab;
      // The sequence diagram needs room for its lifelines: the right column widens.
      document.body.classList.toggle('wide-right', app.tab === 'sequence');
      for (const other of document.querySelectorAll('[role="tab"]')) {
        other.setAttribute('aria-selected', String(other === tab));
      }
      for (const panel of document.querySelectorAll<HTMLElement>('[role="tabpanel"]')) {
        panel.hidden = panel.id !== `tab-${app.tab}`;
      }
      app.refresh();
    });
  }

  const search = byTestId('actor-search', HTMLInputElement);
  search.addEventListener(
    'input',
    debounce(() => {
      tree.setFilter(search.value);
    }, 80),
  );
  const idleToggle = byTestId('idle-toggle', HTMLButtonElement);
  idleToggle.addEventListener('click', () => {
    const show = idleToggle.getAttribute('aria-pressed') !== 'true';
    idleToggle.setAttribute('aria-pressed', String(show));
    tree.setShowIdle(show);
  });

  byTestId('pause').addEventListener('click', () => {
    if (connection.send({ type: 'pause' })) {
      byId('pause-state').textContent = 'paused';
      document.body.classList.add('paused');
    }
  });
  byTestId('resume').addEventListener('click', () => {
    if (connection.send({ type: 'resume' })) {
      byId('pause-state').textContent = '';
      document.body.classList.remove('paused');
    }
  });

  byTestId('timeline-load').addEventListener('click', () => {
    const conversation = app.conversationOf(app.selected);
    if (conversation === null) return;
    app.pendingRecording = false;
    byId('timeline-status').textContent = 'loading…';
    connection.send({
      type: 'timeline',
      conversation_id: conversation.slice('conversation:'.length),
    });
  });

  const recordingFile = byTestId('recording-file', HTMLInputElement);
  recordingFile.addEventListener('change', () => {
    const file = recordingFile.files?.[0];
    if (file === undefined) return;
    void file.text().then((text) => {
      app.pendingRecording = true;
      byId('timeline-status').textContent = `loading ${file.name}…`;
      if (!connection.send({ type: 'load_recording', name: file.name, text })) {
        app.showError('Not connected: the recording could not be sent.');
      }
      recordingFile.value = '';
    });
  });

  byId('send-button').addEventListener('click', () => {
    sendEvent(app);
  });

  const token = byId('token', HTMLInputElement);
  token.value = localStorage.getItem(TOKEN_KEY) ?? '';
  const connect = () => {
    localStorage.setItem(TOKEN_KEY, token.value.trim());
    updateExportLink(app);
    connection.connect(token.value.trim());
  };
  byId('connect').addEventListener('click', connect);
  token.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') connect();
  });

  document.addEventListener('keydown', (event) => {
    const timeline = travel.timeline;
    if (
      !timeline ||
      event.target instanceof HTMLInputElement ||
      event.target instanceof HTMLTextAreaElement
    ) {
      return;
    }
    if (event.key === '[' || event.key === ']') {
      const from = travel.travelling ? travel.index : timeline.points.length - 1;
      travel.go(from + (event.key === ']' ? 1 : -1));
    }
  });

  connection.connect(token.value.trim());
}

/** Sends the JSON event of the "Send event" form to the selected actor. */
function sendEvent(app: InspectorApp): void {
  if (app.selected === null) {
    app.showError('Select an actor first.');
    return;
  }
  let event: unknown;
  try {
    event = JSON.parse(byId('send-event', HTMLTextAreaElement).value);
  } catch (error) {
    app.showError(`The event is not valid JSON: ${error instanceof Error ? error.message : ''}`);
    return;
  }
  if (
    typeof event !== 'object' ||
    event === null ||
    typeof (event as { type?: unknown }).type !== 'string'
  ) {
    app.showError('The event needs a string "type".');
    return;
  }
  app.connection.send({
    type: 'send',
    path: app.selected,
    event: event as { type: string } & Record<string, unknown>,
  });
}

/** Points the export link at the selected conversation's recording (and enables Load timeline). */
export function updateExportLink(app: InspectorApp): void {
  const link = byTestId('export-link', HTMLAnchorElement);
  const conversation = app.conversationOf(app.selected);
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
  const query = app.welcome?.dev_mode
    ? '?user_id=inspector'
    : token === ''
      ? ''
      : `?token=${encodeURIComponent(token)}`;
  link.href = `/api/conversations/${encodeURIComponent(id)}/export${query}`;
  link.setAttribute('download', `${id}.jsonl`);
  link.classList.remove('disabled');
  link.title = `Download ${id} as a recording for parley replay`;
}

/** After the tree rendered: the count line, the idle fold button, and the page's timings. */
export function showTreeInfo(app: InspectorApp): void {
  const { tree, metrics } = app;
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
  const showing = toggle.getAttribute('aria-pressed') === 'true';
  toggle.hidden = tree.foldedIdle === 0 && !showing;
  toggle.textContent = showing
    ? 'Fold idle conversations away'
    : `Show ${count(tree.foldedIdle)} idle conversation${tree.foldedIdle === 1 ? '' : 's'}`;
}
