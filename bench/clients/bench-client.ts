/**
 * A load generator: one process that opens its share of a benchmark's client connections (raw
 * WebSocket for Parley and the `ws` server, `socket.io-client` for Socket.IO), drives a closed
 * loop of turns from one participant per conversation, and measures what every participant
 * receives. A benchmark may start several of these, each with its own conversations, so that no
 * load generator is the bottleneck. It can also read the external model's SSE streams directly
 * (`sse-start`), the floor of the provider benchmark. Controlled over IPC: `connect`, `start`,
 * `sse-start`, `usage`, `mark`, `report`, `stop`, `close`, `shutdown`.
 */
import { preciseNow } from '../support/clock.js';
import { LatencyHistogram } from '../support/histogram.js';
import { serveRequests, type ControlRequest } from '../support/ipc.js';
import { cpuPercent, readUsage, resetLoopDelay } from '../support/usage.js';
import { startDirectSse, type DirectSseLoad } from './direct-sse.js';
import type {
  ConnectRequest,
  RawClientReport,
  SseStartRequest,
  StartRequest,
} from './client-protocol.js';
import { openConnection, type Connection, type Driver } from './open-connection.js';

const histograms = {
  tokenLatency: new LatencyHistogram(),
  frameLatency: new LatencyHistogram(),
  turnWait: new LatencyHistogram(),
  turnService: new LatencyHistogram(),
};
/** More per-turn rates than this in one window are not kept (the summary says how many). */
const MAX_TURN_RATES = 200_000;
const connections: Connection[] = [];
let counters = freshCounters();
let markedUsage = readUsage();
let running = false;
let closing = false;
let start: StartRequest = { content: 'go', staggerMs: 0, retryBusyMs: 50 };
let wsPayload = '';
let socketIoPayload: object = {};
let direct: DirectSseLoad | undefined;

function freshCounters() {
  return {
    frames: 0,
    tokens: 0,
    turns: 0,
    busy: 0,
    turnRates: [] as number[],
    errors: {} as Record<string, number>,
    closes: {} as Record<string, number>,
  };
}

function count(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

function recordTurnRate(tokens: number, firstAt: number, lastAt: number): void {
  if (tokens > 1 && lastAt > firstAt && counters.turnRates.length < MAX_TURN_RATES) {
    counters.turnRates.push(((tokens - 1) * 1000) / (lastAt - firstAt));
  }
}

/**
 * Handles one received frame. For WebSocket text the fields are read without `JSON.parse`
 * (type first, `timestamp` last, the stamp at the start of `delta`), which keeps the client's
 * CPU for receiving; Socket.IO hands over parsed objects.
 */
function onFrame(
  connection: Connection,
  type: string,
  timestamp: number,
  stamp: number,
  raw: string | object,
): void {
  const now = preciseNow();
  counters.frames += 1;
  if (timestamp > 0) histograms.frameLatency.record(now - timestamp);
  if (stamp > 0) histograms.tokenLatency.record(now - stamp);
  if (type === 'welcome') {
    connection.welcomed = true;
    return;
  }
  const driver = connection.driver;
  if (driver === undefined) return;
  switch (type) {
    case 'agent_response_chunk':
      counters.tokens += 1;
      if (driver.turnTokens === 0) driver.firstChunkAt = now;
      driver.turnTokens += 1;
      driver.lastChunkAt = now;
      return;
    case 'typing_indicator':
      driver.startedAt = now;
      driver.turnTokens = 0;
      histograms.turnWait.record(now - driver.sentAt);
      return;
    case 'agent_response_complete':
      counters.turns += 1;
      driver.turns += 1;
      recordTurnRate(driver.turnTokens, driver.firstChunkAt, driver.lastChunkAt);
      histograms.turnService.record(now - driver.startedAt);
      driver.inFlight = false;
      if (running && ((start.maxTurns ?? 0) === 0 || driver.turns < (start.maxTurns ?? 0))) {
        sendMessage(connection, driver);
      }
      return;
    case 'error': {
      const body = typeof raw === 'string' ? (JSON.parse(raw) as { code?: string }) : raw;
      const code = (body as { code?: string }).code ?? 'unknown';
      if (code !== 'busy') {
        count(counters.errors, code);
        return;
      }
      counters.busy += 1;
      driver.inFlight = false;
      setTimeout(() => {
        if (running && !driver.inFlight) sendMessage(connection, driver);
      }, start.retryBusyMs);
      return;
    }
    default:
      return;
  }
}

/** What every connection reports to the load generator. */
const events = {
  frame: onFrame,
  problem: (kind: 'errors' | 'closes', key: string) => {
    if (kind === 'errors') count(counters.errors, key);
    else if (!closing) count(counters.closes, key);
  },
  payload: () => ({ text: wsPayload, object: socketIoPayload }),
};

function sendMessage(connection: Connection, driver: Driver): void {
  if (connection.closed) return;
  driver.inFlight = true;
  driver.sentAt = preciseNow();
  connection.sendMessage();
}

async function connect(request: ConnectRequest): Promise<object> {
  const started = Date.now();
  let next = request.from;
  let failed = 0;
  const worker = async () => {
    while (next < request.to) {
      const index = next;
      next += 1;
      try {
        const connection = await openConnection(
          request.transport,
          { port: request.port, index, participants: request.participants },
          events,
        );
        if (index % request.participants === 0) {
          connection.driver = {
            inFlight: false,
            started: false,
            sentAt: 0,
            startedAt: 0,
            turns: 0,
            turnTokens: 0,
            firstChunkAt: 0,
            lastChunkAt: 0,
          };
        }
        connections.push(connection);
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, worker));
  return { open: openCount(), failed, seconds: (Date.now() - started) / 1000 };
}

function openCount(): number {
  return connections.filter((connection) => !connection.closed).length;
}

/** Starts every driver not started yet (so a benchmark can add conversations and start again). */
function startLoad(request: StartRequest): object {
  start = request;
  wsPayload = JSON.stringify({ type: 'user_message', content: request.content });
  socketIoPayload = { type: 'user_message', content: request.content };
  running = true;
  const drivers = connections.filter((connection) => connection.driver?.started === false);
  drivers.forEach((connection, position) => {
    const driver = connection.driver;
    if (driver !== undefined) driver.started = true;
    setTimeout(
      () => {
        if (running && driver !== undefined && !driver.inFlight) sendMessage(connection, driver);
      },
      (position * request.staggerMs) / Math.max(1, drivers.length),
    );
  });
  return { drivers: drivers.length };
}

function startSse(request: SseStartRequest): object {
  direct = startDirectSse(request, {
    token: (stamp, now) => {
      counters.frames += 1;
      counters.tokens += 1;
      histograms.tokenLatency.record(now - stamp);
    },
    answer: (tokens, firstAt, lastAt) => {
      counters.turns += 1;
      recordTurnRate(tokens, firstAt, lastAt);
    },
    error: (code) => {
      count(counters.errors, code);
    },
  });
  return { streams: request.streams };
}

function mark(): object {
  counters = freshCounters();
  for (const histogram of Object.values(histograms)) histogram.reset();
  resetLoopDelay();
  markedUsage = readUsage();
  return { at: markedUsage.at };
}

function report(): RawClientReport {
  const usage = readUsage();
  return {
    seconds: (usage.at - markedUsage.at) / 1000,
    frames: counters.frames,
    tokens: counters.tokens,
    turns: counters.turns,
    histograms: {
      tokenLatency: histograms.tokenLatency.toSparse(),
      frameLatency: histograms.frameLatency.toSparse(),
      turnWait: histograms.turnWait.toSparse(),
      turnService: histograms.turnService.toSparse(),
    },
    turnRates: counters.turnRates,
    busy: counters.busy,
    errors: counters.errors,
    closes: counters.closes,
    cpuPercent: cpuPercent(markedUsage, usage),
    loopDelay: usage.loopDelay,
    open: openCount(),
  };
}

/** Stops sending and waits (at most `drainMs`) for the turns in flight to complete. */
async function stop(drainMs: number): Promise<object> {
  running = false;
  direct?.stop();
  const deadline = Date.now() + drainMs;
  const inFlight = () =>
    connections.filter((connection) => connection.driver?.inFlight === true && !connection.closed)
      .length + (direct?.active ?? 0);
  while (inFlight() > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { inFlight: inFlight() };
}

/** Waits (at most `timeoutMs`) until every driver has completed `turns` turns. */
async function waitForTurns(turns: number, timeoutMs: number): Promise<object> {
  const deadline = Date.now() + timeoutMs;
  const behind = () =>
    connections.filter(
      (connection) =>
        connection.driver !== undefined && !connection.closed && connection.driver.turns < turns,
    ).length;
  while (behind() > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { behind: behind() };
}

function closeAll(): object {
  closing = true;
  running = false;
  direct?.close();
  for (const connection of connections) connection.close();
  const closed = connections.length;
  connections.length = 0;
  return { closed };
}

serveRequests((request: ControlRequest) => {
  switch (request.type) {
    case 'connect':
      return connect(request as unknown as ConnectRequest);
    case 'start':
      return startLoad(request as unknown as StartRequest);
    case 'sse-start':
      return startSse(request as unknown as SseStartRequest);
    case 'usage':
      return readUsage();
    case 'mark':
      return mark();
    case 'report':
      return report();
    case 'stop':
      return stop(typeof request.drainMs === 'number' ? request.drainMs : 5_000);
    case 'wait-turns':
      return waitForTurns(Number(request.turns), Number(request.timeoutMs));
    case 'close':
      return closeAll();
    case 'shutdown':
      closeAll();
      setTimeout(() => process.exit(0), 50);
      return 'bye';
    default:
      throw new Error(`unknown request ${request.type}`);
  }
});
