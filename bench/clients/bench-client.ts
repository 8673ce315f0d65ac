/**
 * The load generator: one process that opens every client connection of a benchmark (raw
 * WebSocket for Parley and the `ws` server, `socket.io-client` for Socket.IO), drives a closed
 * loop of turns from one participant per conversation, and measures what every participant
 * receives. The benchmark script controls it over IPC: `connect`, `start`, `usage`, `mark`,
 * `report`, `stop`, `close`, `shutdown`.
 */
import { preciseNow } from '../support/clock.js';
import { LatencyHistogram, type LatencySummary } from '../support/histogram.js';
import { serveRequests, type ControlRequest } from '../support/ipc.js';
import { openConnection, type Connection, type Driver, type Transport } from './open-connection.js';
import { cpuPercent, readUsage, resetLoopDelay, type ProcessUsage } from '../support/usage.js';

export type { Transport } from './open-connection.js';

/** `connect`: open connections `from` ≤ index < `to`; index i joins conversation ⌊i / participants⌋. */
export interface ConnectRequest {
  transport: Transport;
  port: number;
  from: number;
  to: number;
  participants: number;
  /** Handshakes in flight at once. */
  concurrency: number;
}

/** `start`: each conversation's first participant sends `content`, and again after each answer. */
export interface StartRequest {
  content: string;
  /** Spread the first messages over this long, so conversations do not move in lockstep. */
  staggerMs: number;
  /** After a `busy` error, send again after this long. */
  retryBusyMs: number;
}

/** What `report` returns: everything received since the last `mark`. */
export interface ClientReport {
  seconds: number;
  /** Frames received by all participants. */
  frames: number;
  /** Turns completed (as seen by the participant who asked). */
  turns: number;
  /** From the delta's production stamp (inside the model) to the participant, in ms. */
  tokenLatency: LatencySummary;
  /** From the frame's `timestamp` (whole ms, server clock) to the participant, in ms. */
  frameLatency: LatencySummary;
  /** From sending a message to its turn's first frame (`typing_indicator`), in ms. */
  turnWait: LatencySummary;
  /** From the turn's `typing_indicator` to its `agent_response_complete`, in ms. */
  turnService: LatencySummary;
  busy: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  cpuPercent: number;
  loopDelay: ProcessUsage['loopDelay'];
  open: number;
}

const tokenLatency = new LatencyHistogram();
const frameLatency = new LatencyHistogram();
const turnWait = new LatencyHistogram();
const turnService = new LatencyHistogram();
const connections: Connection[] = [];
let counters = freshCounters();
let markedUsage = readUsage();
let running = false;
let closing = false;
let start: StartRequest = { content: 'go', staggerMs: 0, retryBusyMs: 50 };
let wsPayload = '';
let socketIoPayload: object = {};

function freshCounters() {
  return {
    frames: 0,
    turns: 0,
    busy: 0,
    errors: {} as Record<string, number>,
    closes: {} as Record<string, number>,
  };
}

function count(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
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
  if (timestamp > 0) frameLatency.record(now - timestamp);
  if (stamp > 0) tokenLatency.record(now - stamp);
  if (type === 'welcome') {
    connection.welcomed = true;
    return;
  }
  const driver = connection.driver;
  if (driver === undefined) return;
  switch (type) {
    case 'typing_indicator':
      driver.startedAt = now;
      turnWait.record(now - driver.sentAt);
      return;
    case 'agent_response_complete':
      counters.turns += 1;
      turnService.record(now - driver.startedAt);
      driver.inFlight = false;
      if (running) sendMessage(connection, driver);
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
          connection.driver = { inFlight: false, sentAt: 0, startedAt: 0 };
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

function startLoad(request: StartRequest): object {
  start = request;
  wsPayload = JSON.stringify({ type: 'user_message', content: request.content });
  socketIoPayload = { type: 'user_message', content: request.content };
  running = true;
  const drivers = connections.filter((connection) => connection.driver !== undefined);
  drivers.forEach((connection, position) => {
    setTimeout(
      () => {
        const driver = connection.driver;
        if (running && driver !== undefined && !driver.inFlight) sendMessage(connection, driver);
      },
      (position * request.staggerMs) / Math.max(1, drivers.length),
    );
  });
  return { drivers: drivers.length };
}

function mark(): object {
  counters = freshCounters();
  for (const histogram of [tokenLatency, frameLatency, turnWait, turnService]) histogram.reset();
  resetLoopDelay();
  markedUsage = readUsage();
  return { at: markedUsage.at };
}

function report(): ClientReport {
  const usage = readUsage();
  return {
    seconds: (usage.at - markedUsage.at) / 1000,
    frames: counters.frames,
    turns: counters.turns,
    tokenLatency: tokenLatency.summary(),
    frameLatency: frameLatency.summary(),
    turnWait: turnWait.summary(),
    turnService: turnService.summary(),
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
  const deadline = Date.now() + drainMs;
  const inFlight = () =>
    connections.filter((connection) => connection.driver?.inFlight === true && !connection.closed)
      .length;
  while (inFlight() > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { inFlight: inFlight() };
}

function closeAll(): object {
  closing = true;
  running = false;
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
    case 'usage':
      return readUsage();
    case 'mark':
      return mark();
    case 'report':
      return report();
    case 'stop':
      return stop(typeof request.drainMs === 'number' ? request.drainMs : 5_000);
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
