/**
 * Inspector under load: a Parley server (child process, in-memory log) holds 5,000 WebSocket
 * clients (100 conversations × 50, from a second child process), 20 of the conversations chat
 * (a message every 3 s each), and headless Chromium opens `/inspector` and measures what a person
 * would feel: time to the first tree rows and to the whole actor list, click → statechart
 * switches (p50/p95 over 20), scroll frame times in the virtualized tree, and long tasks while
 * live updates stream in. Prints a JSON summary and a table, stops everything and exits.
 *
 * Run: `npx tsx bench/inspector-load.ts [--clients 5000] [--per-conversation 50] [--chatty 20]
 * [--interval-ms 3000] [--switches 20] [--live-seconds 5] [--json file]`
 *
 * Why one file of ~700 lines: it plays both parts (the runner, and with `--role clients` the
 * client process) and carries the probes it runs in the page (JavaScript strings, as the project
 * compiles without the DOM lib), so the benchmark is one self-contained script to run or read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocket } from 'ws';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(import.meta.url);
const CHROMIUM_PATH = '/usr/bin/chromium';
/** The whole run stops itself after this long, whatever happens. */
const DEADLINE_MS = 10 * 60_000;
/** The longest task the page may run while live updates stream in. */
const LONG_TASK_LIMIT_MS = 200;

const { values: args } = parseArgs({
  options: {
    role: { type: 'string', default: 'runner' },
    clients: { type: 'string', default: '5000' },
    'per-conversation': { type: 'string', default: '50' },
    chatty: { type: 'string', default: '20' },
    'interval-ms': { type: 'string', default: '3000' },
    switches: { type: 'string', default: '20' },
    'live-seconds': { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});

// ------------------------------------------------------------------ shared helpers

/** A request from the runner to the client process, answered with `{ id, result | error }`. */
type ClientRequest =
  | { type: 'connect'; port: number; clients: number; perConversation: number }
  | { type: 'chat'; conversations: number; intervalMs: number }
  | { type: 'report' }
  | { type: 'close' };

interface ClientReport {
  open: number;
  failed: number;
  connectSeconds: number;
  messagesSent: number;
  answers: number;
  frames: number;
  megabytes: number;
  closes: Record<string, number>;
}

const conversationId = (index: number) => `inspect-load-${String(index).padStart(3, '0')}`;

/** Nearest-rank percentile of `values` (0 when empty), rounded to 0.1. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return round(sorted[rank] ?? 0);
}
const round = (value: number) => Math.round(value * 10) / 10;
const slash = (...values: number[]) => values.join(' / ');
const integer = (name: keyof typeof args) => Number.parseInt(String(args[name]), 10);

// ------------------------------------------------------------------ client process

/** The client process: opens every WebSocket, drives the chatty conversations, reports. */
function runClients(): void {
  const sockets: WebSocket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const report: ClientReport = {
    open: 0,
    failed: 0,
    connectSeconds: 0,
    messagesSent: 0,
    answers: 0,
    frames: 0,
    megabytes: 0,
    closes: {},
  };
  let bytes = 0;
  let perConversation = 1;

  const open = (port: number, index: number) =>
    new Promise<void>((resolve) => {
      const conversation = conversationId(Math.floor(index / perConversation));
      const socket = new WebSocket(
        `ws://127.0.0.1:${port}/ws/chat/${conversation}?user_id=user-${index}`,
        { perMessageDeflate: false },
      );
      let welcomed = false;
      socket.on('message', (data: Buffer) => {
        report.frames += 1;
        bytes += data.length;
        if (!welcomed && data.includes('"type":"welcome"')) {
          welcomed = true;
          report.open += 1;
          sockets[index] = socket;
          resolve();
        } else if (data.includes('"agent_response_complete"')) report.answers += 1;
      });
      socket.on('close', (code) => {
        report.closes[code] = (report.closes[code] ?? 0) + 1;
        if (!welcomed) {
          report.failed += 1;
          resolve();
        }
      });
      socket.on('error', () => undefined);
    });

  const handle = async (request: ClientRequest): Promise<unknown> => {
    switch (request.type) {
      case 'connect': {
        perConversation = request.perConversation;
        const started = performance.now();
        let next = 0;
        // A bounded number of handshakes in flight, as a fleet of real clients would arrive.
        const lane = async () => {
          while (next < request.clients) {
            const index = next;
            next += 1;
            await open(request.port, index);
          }
        };
        await Promise.all(Array.from({ length: 100 }, lane));
        report.connectSeconds = round((performance.now() - started) / 1000);
        return { ...report };
      }
      case 'chat': {
        for (let conversation = 0; conversation < request.conversations; conversation += 1) {
          const socket = sockets[conversation * perConversation];
          if (socket === undefined) continue;
          const send = () => {
            if (socket.readyState !== WebSocket.OPEN) return;
            const a = Math.floor(Math.random() * 90) + 10;
            socket.send(JSON.stringify({ type: 'user_message', content: `What is ${a} + 7?` }));
            report.messagesSent += 1;
          };
          // Spread over the interval, so the conversations do not move in lockstep.
          const offset = (conversation * request.intervalMs) / request.conversations;
          timers.push(
            setTimeout(() => {
              send();
              timers.push(setInterval(send, request.intervalMs));
            }, offset),
          );
        }
        return null;
      }
      case 'report':
        return { ...report, megabytes: round(bytes / 2 ** 20) };
      case 'close': {
        for (const timer of timers) clearTimeout(timer);
        const closing = sockets
          .filter((socket) => socket.readyState === WebSocket.OPEN)
          .map(async (socket) => {
            const closed = once(socket, 'close');
            socket.close(1000);
            await closed;
          });
        await Promise.race([
          Promise.all(closing),
          new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
        ]);
        return { ...report, megabytes: round(bytes / 2 ** 20) };
      }
    }
  };

  process.on('message', (message: ClientRequest & { id: number }) => {
    handle(message).then(
      (result) => process.send?.({ id: message.id, result }),
      (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
    );
  });
  // The runner going away (finished or crashed) ends this process too.
  process.on('disconnect', () => process.exit(0));
}

// ------------------------------------------------------------------ runner: processes

/** Starts `node --import tsx <args>` with the open-files limit raised to the hard limit. */
function startNode(nodeArgs: string[], env: Record<string, string>, ipc: boolean): ChildProcess {
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
  // tsx may have put its loader in NODE_OPTIONS; the children load it themselves.
  if (environment.NODE_OPTIONS?.includes('tsx') === true) delete environment.NODE_OPTIONS;
  return spawn(
    'bash',
    [
      '-c',
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
      'bash',
      process.execPath,
      '--import',
      'tsx',
    ].concat(nodeArgs),
    {
      cwd: ROOT,
      env: environment,
      stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
    },
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function startParley(port: number): Promise<ChildProcess> {
  const server = startNode(
    ['src/cli.ts', 'serve'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      PARLEY_DB: 'memory',
      PARLEY_RATE_LIMIT_MESSAGES: '1000000',
      PARLEY_MAX_PARTICIPANTS: '100',
      PARLEY_TOKEN_PACING_MS: '20',
      LOG_LEVEL: 'warn',
    },
    false,
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    server.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('parley listening on')) resolve();
    });
    server.once('exit', (code) => {
      reject(new Error(`the server exited (${String(code)}) before listening:\n${output}`));
    });
  });
  return server;
}

/** The runner's side of the client process's IPC channel. */
function clientChannel(child: ChildProcess) {
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.result);
  });
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`clients exited (${code})`));
  });
  return <TResult>(request: ClientRequest) =>
    new Promise<TResult>((resolve, reject) => {
      const id = nextId;
      nextId += 1;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id });
    });
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

// ------------------------------------------------------------------ runner: the page

// Installed before the page's own scripts. Strings: the project compiles without the DOM lib.
const PAGE_PROBES = `(() => {
  const bench = (window.__bench = { longTasks: [], messages: 0, bytes: 0 });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      bench.longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: 'longtask', buffered: true });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...parameters) {
      super(...parameters);
      this.addEventListener('message', (event) => {
        bench.messages += 1;
        bench.bytes += event.data.length;
      });
    }
  };

  /** Arms a measurement of the next click: click → diagram of path painted, and → its data in. */
  bench.armSwitch = (path, kind) => {
    bench.switched = new Promise((resolve) => {
      const result = {};
      let clickAt;
      const svg = document.querySelector('[data-testid=diagram]');
      const done = () => {
        if (result.diagramMs === undefined || result.dataMs === undefined) return;
        observer.disconnect();
        resolve(result);
      };
      const check = () => {
        if (clickAt === undefined) return;
        const app = window.__inspector.app;
        const now = performance.now();
        if (result.shownAt === undefined) {
          const state = document.getElementById('selected-state').textContent;
          const id = app.welcome.machines[kind].id + '.' + state;
          const current = svg.querySelector('g.state.current[data-state-id="' + CSS.escape(id) + '"]');
          if (document.getElementById('selected-title').textContent === path && svg.dataset.kind === kind && state !== '' && current) {
            result.shownAt = now;
            // The next frame is the one that shows it.
            requestAnimationFrame(() => setTimeout(() => {
              result.diagramMs = performance.now() - clickAt;
              done();
            }));
          }
        }
        if (result.dataMs === undefined && app.live.path === path && app.live.context !== undefined) {
          result.dataMs = now - clickAt;
          done();
        }
      };
      const observer = new MutationObserver(check);
      observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      document.addEventListener('click', (event) => {
        clickAt = event.timeStamp;
        check();
      }, { capture: true, once: true });
    });
  };

  /** Scrolls the actor tree by step px per frame for n frames; frame intervals and render times. */
  bench.scrollTree = (frames, step) => new Promise((resolve) => {
    const viewport = document.querySelector('[data-testid=actor-tree]');
    const tree = window.__inspector.tree;
    const renders = [];
    const render = tree.render;
    tree.render = function () {
      const started = performance.now();
      render.call(this);
      renders.push(performance.now() - started);
    };
    viewport.scrollTop = 0;
    const intervals = [];
    let last;
    const tick = (now) => {
      if (last !== undefined) intervals.push(now - last);
      last = now;
      if (intervals.length >= frames) {
        tree.render = render;
        const bottom = viewport.scrollTop + viewport.clientHeight;
        resolve({ intervals, renders, scrolledPx: viewport.scrollTop, reachedEnd: bottom >= viewport.scrollHeight - 1 });
        return;
      }
      viewport.scrollTop += step;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });

  /** Long tasks and inspector traffic during ms of live updates. */
  bench.watchLive = (ms) => new Promise((resolve) => {
    const from = performance.now();
    const messages = bench.messages;
    const bytes = bench.bytes;
    setTimeout(() => {
      const tasks = bench.longTasks.filter((task) => task.start >= from);
      resolve({
        seconds: (performance.now() - from) / 1000,
        longTasks: tasks.length,
        longestTaskMs: Math.max(0, ...tasks.map((task) => task.duration)),
        messages: bench.messages - messages,
        kilobytes: (bench.bytes - bytes) / 1024,
      });
    }, ms);
  });
})()`;

interface PageMetrics {
  startedAt: number;
  openAt: number;
  welcomeAt: number;
  firstPageAt: number;
  firstRowsAt: number;
  allLoadedAt: number;
  allRenderedAt: number;
  pages: number;
  layoutMs?: Record<string, number>;
}

interface LiveWindow {
  seconds: number;
  longTasks: number;
  longestTaskMs: number;
  messages: number;
  kilobytes: number;
}

/**
 * Picks the row of `kind` nearest to a fraction of the list (not the selected one), scrolls it
 * to the middle of the tree and resolves with its path once the tree has drawn it.
 */
const SHOW_ROW = `((fraction, kind) => new Promise((resolve) => {
  const tree = window.__inspector.tree;
  const viewport = document.querySelector('[data-testid=actor-tree]');
  const rows = tree.flat;
  const fits = (index) => index >= 0 && index < rows.length &&
    tree.get(rows[index].path)?.kind === kind && rows[index].path !== window.__inspector.app.selected;
  const start = Math.floor(fraction * (rows.length - 1));
  let found = -1;
  for (let distance = 0; distance < rows.length && found < 0; distance += 1) {
    if (fits(start + distance)) found = start + distance;
    else if (fits(start - distance)) found = start - distance;
  }
  const rowHeight = viewport.scrollHeight / rows.length;
  viewport.scrollTop = found * rowHeight - viewport.clientHeight / 2;
  // The tree draws on the frame after a scroll event.
  requestAnimationFrame(() => requestAnimationFrame(() => resolve(rows[found]?.path ?? null)));
}))`;

async function measurePage(page: Page, baseUrl: string, actors: number) {
  await page.addInitScript(PAGE_PROBES);
  await page.goto(`${baseUrl}/inspector`);
  await page.waitForFunction(
    `window.__inspector?.metrics.allRenderedAt !== undefined && window.__inspector.tree.actors.size >= ${actors}`,
    undefined,
    { timeout: 120_000, polling: 100 },
  );
  const metrics = await page.evaluate<PageMetrics>('window.__inspector.metrics');
  const loadedActors = await page.evaluate<number>('window.__inspector.tree.actors.size');

  // Switches alternate between a conversation and a connection (another machine, so the
  // diagram is redrawn), at places spread over the whole list.
  const switches: { path: string; kind: string; diagramMs: number; dataMs: number }[] = [];
  const count = integer('switches');
  for (let index = 0; index < count; index += 1) {
    const kind = index % 2 === 0 ? 'conversation' : 'connection';
    const path = await page.evaluate<string | null>(`${SHOW_ROW}(${index / count}, '${kind}')`);
    if (path === null) throw new Error(`no ${kind} row in the tree`);
    const target = { path, kind };
    await page.evaluate(`window.__bench.armSwitch(${JSON.stringify(target.path)}, '${kind}')`);
    await page.click(`[data-testid=actor-row][data-path="${target.path}"]`);
    const result = await page.evaluate<{ diagramMs: number; dataMs: number }>(
      'window.__bench.switched',
    );
    switches.push({ path: target.path, kind, ...result });
  }

  const scroll = await page.evaluate<{
    intervals: number[];
    renders: number[];
    scrolledPx: number;
    reachedEnd: boolean;
  }>('window.__bench.scrollTree(300, 180)');

  // Live: follow a chatty conversation (its events stream in) while every actor's state changes
  // arrive as deltas.
  await page.fill('[data-testid=actor-search]', conversationId(0));
  const live = `[data-testid=actor-row][data-path="conversation:${conversationId(0)}"]`;
  await page.click(live);
  await page.waitForSelector('[data-testid=diagram] g.state.current');
  const liveWindow = await page.evaluate<LiveWindow>(
    `window.__bench.watchLive(${integer('live-seconds') * 1000})`,
  );
  const allLongTasks = await page.evaluate<{ start: number; duration: number }[]>(
    'window.__bench.longTasks',
  );
  // ELK lays out each machine the first time it is shown, during the switches.
  metrics.layoutMs = await page.evaluate<Record<string, number>>(
    'window.__inspector.metrics.layoutMs ?? {}',
  );
  return { metrics, loadedActors, switches, scroll, liveWindow, allLongTasks };
}

// ------------------------------------------------------------------ runner

async function runBenchmark(): Promise<void> {
  const clients = integer('clients');
  const perConversation = integer('per-conversation');
  const conversations = Math.ceil(clients / perConversation);
  const chatty = Math.min(integer('chatty'), conversations);
  const intervalMs = integer('interval-ms');
  const port = await freePort();
  const children: ChildProcess[] = [];
  let browser: Browser | undefined;
  const deadline = setTimeout(() => {
    process.stderr.write(`inspector-load: still running after ${DEADLINE_MS} ms, stopping\n`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  const log = (text: string) => process.stderr.write(`[inspector-load] ${text}\n`);

  try {
    log(`server on 127.0.0.1:${port}`);
    const server = await startParley(port);
    children.push(server);
    const clientProcess = startNode([SCRIPT, '--role', 'clients'], {}, true);
    children.push(clientProcess);
    const request = clientChannel(clientProcess);

    log(`connecting ${clients} clients (${conversations} conversations × ${perConversation})`);
    const connected = await request<ClientReport>({
      type: 'connect',
      port,
      clients,
      perConversation,
    });
    log(`${connected.open} open, ${connected.failed} failed in ${connected.connectSeconds} s`);
    await request({ type: 'chat', conversations: chatty, intervalMs });
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {
      connections: number;
      conversations: number;
    };

    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(30_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    log('measuring the inspector page');
    const actors = health.connections + health.conversations + 1;
    const measured = await measurePage(page, `http://127.0.0.1:${port}`, actors);
    const traffic = await request<ClientReport>({ type: 'report' });

    const { metrics, switches, scroll, liveWindow } = measured;
    const diagram = switches.map((item) => item.diagramMs);
    const data = switches.map((item) => item.dataMs);
    // The first switch to each machine also lays it out; the others only redraw.
    const warm = switches
      .filter((item, index) => switches.findIndex((other) => other.kind === item.kind) !== index)
      .map((item) => item.diagramMs);
    const frames = scroll.intervals;
    const summary = {
      benchmark: 'inspector-load',
      at: new Date().toISOString(),
      setup: {
        clients,
        conversations,
        perConversation,
        chattyConversations: chatty,
        messageIntervalMs: intervalMs,
        tokenPacingMs: 20,
        serverConnections: health.connections,
        actorsInPage: measured.loadedActors,
        connectSeconds: connected.connectSeconds,
        failedConnections: connected.failed,
      },
      load: {
        firstRowsMs: round(metrics.firstRowsAt),
        allActorsLoadedMs: round(metrics.allLoadedAt),
        allActorsRenderedMs: round(metrics.allRenderedAt),
        listPages: metrics.pages,
        welcomeMs: round(metrics.welcomeAt),
        firstLayoutMs: metrics.layoutMs ?? {},
      },
      switch: {
        count: switches.length,
        diagramP50Ms: percentile(diagram, 50),
        diagramP95Ms: percentile(diagram, 95),
        diagramMaxMs: percentile(diagram, 100),
        firstPerMachineMs: Object.fromEntries(
          ['conversation', 'connection'].map((kind) => [
            kind,
            round(switches.find((item) => item.kind === kind)?.diagramMs ?? 0),
          ]),
        ),
        warmDiagramP50Ms: percentile(warm, 50),
        warmDiagramP95Ms: percentile(warm, 95),
        dataP50Ms: percentile(data, 50),
        dataP95Ms: percentile(data, 95),
      },
      scroll: {
        frames: frames.length,
        scrolledPx: scroll.scrolledPx,
        frameP50Ms: percentile(frames, 50),
        frameP95Ms: percentile(frames, 95),
        frameMaxMs: percentile(frames, 100),
        framesOver50Ms: frames.filter((interval) => interval > 50).length,
        renderP50Ms: percentile(scroll.renders, 50),
        renderP95Ms: percentile(scroll.renders, 95),
      },
      live: {
        seconds: round(liveWindow.seconds),
        longTasks: liveWindow.longTasks,
        longestTaskMs: round(liveWindow.longestTaskMs),
        interactive: liveWindow.longestTaskMs <= LONG_TASK_LIMIT_MS,
        inspectorMessagesPerSecond: round(liveWindow.messages / liveWindow.seconds),
        inspectorKilobytesPerSecond: round(liveWindow.kilobytes / liveWindow.seconds),
        longestTaskWholeRunMs: round(
          Math.max(0, ...measured.allLongTasks.map((task) => task.duration)),
        ),
      },
      chat: {
        messagesSent: traffic.messagesSent,
        answers: traffic.answers,
        framesToClients: traffic.frames,
        megabytesToClients: traffic.megabytes,
      },
      pageErrors,
    };
    const { setup, load, switch: switching, scroll: scrolled, live, chat } = summary;
    printSummary(summary, [
      ['clients / conversations', slash(setup.clients, setup.conversations)],
      ['actors in the page', String(setup.actorsInPage)],
      ['first tree rows', `${load.firstRowsMs} ms`],
      [
        'all actors loaded / rendered',
        `${slash(load.allActorsLoadedMs, load.allActorsRenderedMs)} ms`,
      ],
      [
        'switch → diagram p50 / p95 / max',
        `${slash(switching.diagramP50Ms, switching.diagramP95Ms, switching.diagramMaxMs)} ms`,
      ],
      [
        'switch → diagram, laid out p50 / p95',
        `${slash(switching.warmDiagramP50Ms, switching.warmDiagramP95Ms)} ms`,
      ],
      ['first switch per machine (ELK layout)', JSON.stringify(switching.firstPerMachineMs)],
      ['switch → actor data p50 / p95', `${slash(switching.dataP50Ms, switching.dataP95Ms)} ms`],
      [
        'scroll frame p50 / p95 / max',
        `${slash(scrolled.frameP50Ms, scrolled.frameP95Ms, scrolled.frameMaxMs)} ms`,
      ],
      ['tree render p50 / p95', `${slash(scrolled.renderP50Ms, scrolled.renderP95Ms)} ms`],
      ['long tasks in live window', `${live.longTasks} (longest ${live.longestTaskMs} ms)`],
      ['interactive (no task > 200 ms)', String(live.interactive)],
      [
        'inspector traffic',
        `${live.inspectorMessagesPerSecond} msg/s, ${live.inspectorKilobytesPerSecond} KiB/s`,
      ],
      ['chat messages / answers received', slash(chat.messagesSent, chat.answers)],
    ]);
    if (args.json !== undefined)
      await writeFile(args.json, `${JSON.stringify(summary, null, 2)}\n`);

    await browser.close();
    browser = undefined;
    await request({ type: 'close' });
    await stopProcess(clientProcess);
    await stopProcess(server);
    process.exitCode = summary.live.interactive && pageErrors.length === 0 ? 0 : 1;
  } finally {
    await browser?.close();
    await Promise.all(children.map((child) => stopProcess(child, 'SIGKILL')));
    clearTimeout(deadline);
  }
}

/** Prints the JSON summary, then the same numbers as a two-column table. */
function printSummary(summary: object, rows: [string, string][]): void {
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n\n`);
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) process.stdout.write(`${name.padEnd(width)}  ${value}\n`);
}

if (args.role === 'clients') runClients();
else
  await runBenchmark().catch((error: unknown) => {
    process.stderr.write(
      `inspector-load failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  });
