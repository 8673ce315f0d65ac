/**
 * The client process of the reconnect-storm benchmark (Parley only). `prepare` opens, per
 * conversation, one driver and some resumers; the resumers note the last seq they saw and close;
 * each driver asks one long answer, so every resumer misses its frames. `storm` then reconnects
 * every resumer at once with `?since=<last seq seen>` and checks what each receives: the missed
 * event frames in order from `since + 1` up to the seq its `welcome` states, no gap, no duplicate,
 * and how it ended (resumed, or closed by the server first, with the close code).
 */
import { WebSocket } from 'ws';
import { preciseNow } from '../support/clock.js';
import { serveRequests, type ControlRequest } from '../support/ipc.js';
import { cpuPercent, readUsage } from '../support/usage.js';

/** `prepare`: where and how much. */
export interface PrepareRequest {
  port: number;
  conversations: number;
  resumersPerConversation: number;
  /** Longest wait for every driver's answer. */
  timeoutMs: number;
}

/** What `storm` reports. */
export interface StormReport {
  resumers: number;
  /** Resumers that received every frame up to their welcome's seq. */
  resumed: number;
  /** Resumers closed by the server before that, by close code. */
  terminated: Record<string, number>;
  /** Of those, closed before their `welcome` arrived. */
  terminatedBeforeWelcome: number;
  /** Resumers neither resumed nor closed when the storm's time ran out. */
  pending: number;
  /** Missing seqs (a jump forward) and seqs received twice or out of order, over all resumers. */
  gaps: number;
  duplicates: number;
  /** Frames each resumer had missed (welcome seq − since): min, mean, max over the welcomed. */
  missed: { min: number; mean: number; max: number };
  framesReceived: number;
  /** From the first reconnect to the last resumer done, in s (null when not all resumed). */
  secondsToResumeAll: number | null;
  /** From the first reconnect to half of the resumers done, in s. */
  secondsToResumeHalf: number | null;
  clientCpuPercent: number;
}

interface Resumer {
  index: number;
  conversation: string;
  since: number;
  socket?: WebSocket;
  welcomed: boolean;
  target: number;
  expected: number;
  doneAt: number;
  closedCode: number;
}

const resumers: Resumer[] = [];
const drivers: Driver[] = [];
let port = 0;

/** The `type` and `seq` of a Parley frame, read without parsing the whole frame. */
function typeAndSeq(text: string): { type: string; seq: number } {
  const typeAt = text.indexOf('"type":"') + 8;
  const type = text.slice(typeAt, text.indexOf('"', typeAt));
  const seqAt = text.indexOf('"seq":');
  return { type, seq: seqAt < 0 ? -1 : parseInt(text.slice(seqAt + 6), 10) };
}

/** Replies to one connection: they may state the current seq, but are not events. */
const NOT_EVENTS = new Set(['welcome', 'pong', 'error', 'history']);

function open(url: string, onFrame: (type: string, seq: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.on('message', (data: Buffer) => {
      const { type, seq } = typeAndSeq(data.toString('utf8'));
      onFrame(type, seq);
      if (type === 'welcome') resolve(socket);
    });
    socket.on('error', reject);
    socket.on('close', (code) => {
      reject(new Error(`closed with ${code} before welcome`));
    });
  });
}

/** A driver: its socket now, and its answer's completion, across the resumes it needed. */
interface Driver {
  socket: WebSocket;
  answered: Promise<void>;
  /** Set once answered, or at shutdown: a close then is not resumed. */
  done: boolean;
}

/**
 * Opens a driver, which asks for the answer the resumers miss. The server may close it as too
 * slow (1013) while ten answers at 10 tokens per tick flood this one client process: it resumes
 * with `?since=` its last event seq, as a real client would, until its answer is complete.
 */
async function drive(url: string): Promise<Driver> {
  let lastSeq = 0;
  let complete: () => void = () => undefined;
  const onFrame = (type: string, seq: number) => {
    if (!NOT_EVENTS.has(type)) lastSeq = Math.max(lastSeq, seq);
    if (type === 'agent_response_complete') complete();
  };
  const driver: Driver = {
    socket: await open(url, onFrame),
    answered: new Promise((resolve) => (complete = resolve)),
    done: false,
  };
  void driver.answered.then(() => (driver.done = true));
  const resume = async () => {
    for (let attempt = 1; attempt <= 10 && !driver.done; attempt += 1) {
      try {
        driver.socket = await open(`${url}&since=${String(lastSeq)}`, onFrame);
        resumeOnClose(driver.socket);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  };
  const resumeOnClose = (socket: WebSocket) => {
    socket.once('close', () => {
      if (!driver.done) void resume();
    });
  };
  resumeOnClose(driver.socket);
  return driver;
}

async function prepare(request: PrepareRequest): Promise<object> {
  port = request.port;
  const base = `ws://127.0.0.1:${port}/ws/chat`;
  const answered: Promise<void>[] = [];
  for (let conversation = 0; conversation < request.conversations; conversation += 1) {
    const id = `storm${conversation}`;
    const driver = await drive(`${base}/${id}?user_id=driver${conversation}`);
    answered.push(driver.answered);
    drivers.push(driver);
    for (let k = 0; k < request.resumersPerConversation; k += 1) {
      const resumer: Resumer = {
        index: resumers.length,
        conversation: id,
        since: 0,
        welcomed: false,
        target: 0,
        expected: 0,
        doneAt: 0,
        closedCode: 0,
      };
      resumer.socket = await open(`${base}/${id}?user_id=r${resumer.index}`, (_type, seq) => {
        resumer.since = Math.max(resumer.since, seq);
      });
      resumers.push(resumer);
    }
  }
  // Frames still on their way (the presence of later joiners) count as seen once they arrive.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await Promise.all(
    resumers.map(
      (resumer) =>
        new Promise<void>((resolve) => {
          resumer.socket?.once('close', () => {
            resolve();
          });
          resumer.socket?.close(1000);
        }),
    ),
  );
  const started = Date.now();
  for (const driver of drivers) {
    driver.socket.send(JSON.stringify({ type: 'user_message', content: 'A long answer, please.' }));
  }
  const timeout = new Promise<'timeout'>((resolve) =>
    setTimeout(() => {
      resolve('timeout');
    }, request.timeoutMs),
  );
  const outcome = await Promise.race([Promise.all(answered), timeout]);
  return {
    resumers: resumers.length,
    answered: outcome !== 'timeout',
    seconds: (Date.now() - started) / 1000,
  };
}

function reconnect(resumer: Resumer): void {
  const url = `ws://127.0.0.1:${port}/ws/chat/${resumer.conversation}?user_id=r${resumer.index}&since=${resumer.since}`;
  const socket = new WebSocket(url, { perMessageDeflate: false });
  resumer.socket = socket;
  resumer.expected = resumer.since + 1;
  socket.on('message', (data: Buffer) => {
    const { type, seq } = typeAndSeq(data.toString('utf8'));
    counters.frames += 1;
    if (type === 'welcome') {
      resumer.welcomed = true;
      resumer.target = seq;
    } else if (!NOT_EVENTS.has(type) && seq > 0) {
      if (seq > resumer.expected) counters.gaps += seq - resumer.expected;
      if (seq < resumer.expected) counters.duplicates += 1;
      else resumer.expected = seq + 1;
    }
    if (resumer.doneAt === 0 && resumer.welcomed && resumer.expected > resumer.target) {
      resumer.doneAt = preciseNow();
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', (code) => {
    if (resumer.doneAt === 0) resumer.closedCode = code;
  });
}

const counters = { frames: 0, gaps: 0, duplicates: 0 };

async function storm(timeoutMs: number): Promise<StormReport> {
  const usageBefore = readUsage();
  const started = preciseNow();
  for (const resumer of resumers) reconnect(resumer);
  const settled = () => resumers.every((each) => each.doneAt > 0 || each.closedCode > 0);
  const deadline = Date.now() + timeoutMs;
  while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const terminated: Record<string, number> = {};
  for (const resumer of resumers) {
    if (resumer.doneAt === 0 && resumer.closedCode > 0) {
      terminated[resumer.closedCode] = (terminated[resumer.closedCode] ?? 0) + 1;
    }
  }
  const done = resumers
    .filter((resumer) => resumer.doneAt > 0)
    .map((resumer) => resumer.doneAt - started)
    .sort((a, b) => a - b);
  const missed = resumers.filter((each) => each.welcomed).map((each) => each.target - each.since);
  const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms) / 1000);
  return {
    resumers: resumers.length,
    resumed: done.length,
    terminated,
    terminatedBeforeWelcome: resumers.filter(
      (each) => each.doneAt === 0 && each.closedCode > 0 && !each.welcomed,
    ).length,
    pending: resumers.filter((each) => each.doneAt === 0 && each.closedCode === 0).length,
    gaps: counters.gaps,
    duplicates: counters.duplicates,
    missed: {
      min: missed.length === 0 ? 0 : Math.min(...missed),
      mean: missed.length === 0 ? 0 : Math.round(missed.reduce((a, b) => a + b, 0) / missed.length),
      max: missed.length === 0 ? 0 : Math.max(...missed),
    },
    framesReceived: counters.frames,
    secondsToResumeAll: done.length === resumers.length ? seconds(done.at(-1)) : null,
    secondsToResumeHalf: seconds(done[Math.ceil(resumers.length / 2) - 1]),
    clientCpuPercent: cpuPercent(usageBefore, readUsage()),
  };
}

serveRequests((request: ControlRequest) => {
  switch (request.type) {
    case 'prepare':
      return prepare(request as unknown as PrepareRequest);
    case 'storm':
      return storm(Number(request.timeoutMs));
    case 'usage':
      return readUsage();
    case 'shutdown':
      for (const driver of drivers) driver.done = true;
      for (const socket of [
        ...drivers.map((driver) => driver.socket),
        ...resumers.map((each) => each.socket),
      ])
        socket?.terminate();
      setTimeout(() => process.exit(0), 50);
      return 'bye';
    default:
      throw new Error(`unknown request ${request.type}`);
  }
});
