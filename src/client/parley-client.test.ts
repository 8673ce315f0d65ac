import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ServerFrame } from '../protocol/frames.js';
import { ParleyClientError } from './client-error.js';
import type { ParleyClientOptions, ParleyClientStatus } from './client-types.js';
import { connect } from './parley-client.js';
import type { WebSocketLike } from './web-socket-like.js';

/** An in-memory WebSocket the test plays the server for. */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: Record<string, unknown>[] = [];
  readonly closedWith: { code: number | undefined; reason: string | undefined }[] = [];
  private readonly listeners = new Map<string, ((event: unknown) => void)[]>();

  constructor(
    readonly url: string,
    readonly protocols: string | string[] | undefined,
  ) {}

  addEventListener(type: string, listener: (event: never) => void): void {
    const list = this.listeners.get(type) ?? [];
    list.push(listener as (event: unknown) => void);
    this.listeners.set(type, list);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closedWith.push({ code, reason });
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => {
      this.emit('close', { code: code ?? 1005, reason: reason ?? '' });
    });
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  /** Completes the handshake and sends `welcome` with the given seq. */
  accept(seq: number, extra: Partial<ServerFrame> = {}): void {
    this.readyState = 1;
    this.emit('open', {});
    this.receive(welcome(seq, extra));
  }

  receive(frame: unknown): void {
    this.emit('message', { data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  /** The server (or the network) closes the connection. */
  drop(code: number, reason = ''): void {
    this.readyState = 3;
    this.emit('close', { code, reason });
  }

  private emit(type: string, event: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

/** A WebSocket class whose instances the test can await, in creation order. */
function fakeServer() {
  const sockets: FakeSocket[] = [];
  const waiting: ((socket: FakeSocket) => void)[] = [];
  class Socket extends FakeSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
      waiting.shift()?.(this);
    }
  }
  return {
    WebSocket: Socket,
    sockets,
    /** Resolves with socket number `index` (0 for the first) once the client has opened it. */
    socket(index: number): Promise<FakeSocket> {
      const existing = sockets[index];
      if (existing !== undefined) return Promise.resolve(existing);
      return new Promise((resolve) => {
        const take = (socket: FakeSocket) => {
          if (sockets.indexOf(socket) === index) resolve(socket);
          else waiting.push(take);
        };
        waiting.push(take);
      });
    },
  };
}

const envelope = (seq: number) => ({ conversation_id: 'demo', seq, timestamp: 1 });

function welcome(seq: number, extra: Partial<ServerFrame> = {}) {
  return {
    type: 'welcome',
    ...envelope(seq),
    protocol_version: 1,
    connection_id: 'conn_1',
    user_id: 'alice',
    participants: ['alice'],
    active_turn_id: null,
    limits: {
      max_frame_bytes: 65_536,
      max_content_chars: 16_000,
      outbound_buffer_frames: 256,
      rate_limit_messages: 20,
      rate_limit_window_ms: 10_000,
      heartbeat_interval_ms: 30_000,
    },
    ...extra,
  };
}

function chunk(seq: number) {
  return {
    type: 'agent_response_chunk',
    ...envelope(seq),
    turn_id: 'turn_1',
    message_id: 'msg_1',
    index: seq,
    delta: `${seq} `,
  };
}

/** Connects a client to a fake server and accepts the first socket with `welcome` seq. */
async function connected(welcomeSeq: number, options: Partial<ParleyClientOptions> = {}) {
  const server = fakeServer();
  const pending = connect({
    url: 'http://127.0.0.1:8080',
    conversationId: 'demo',
    userId: 'alice',
    WebSocket: server.WebSocket,
    reconnect: { initialDelayMs: 1 },
    ...options,
  });
  const first = await server.socket(0);
  first.accept(welcomeSeq);
  const client = await pending;
  const frames: ServerFrame[] = [];
  const statuses: { status: ParleyClientStatus; error: ParleyClientError | undefined }[] = [];
  client.subscribe((frame) => frames.push(frame));
  client.onStatus((status, error) => statuses.push({ status, error }));
  // The welcome is delivered on the macrotask after connect resolves; start each test after it.
  await client.waitFor((frame) => frame.type === 'welcome');
  return { client, server, first, frames, statuses };
}

const seqs = (frames: readonly ServerFrame[]) =>
  frames.map((frame) => `${frame.type}:${frame.seq}`);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('connect', () => {
  it('opens ws://…/ws/chat/<id> with user_id and offers parley.v1 with the token as bearer.<jwt>', async () => {
    const token = vi.fn(() => Promise.resolve('header.payload.signature'));
    const { client, first } = await connected(0, { url: 'http://example.test:8080/base/', token });
    expect(first.url).toBe('ws://example.test:8080/base/ws/chat/demo?user_id=alice');
    expect(first.protocols).toEqual(['parley.v1', 'bearer.header.payload.signature']);
    expect(token).toHaveBeenCalledTimes(1);
    expect(client.status).toBe('open');
    expect(client.welcome.connection_id).toBe('conn_1');
    await client.close();
  });

  it('resumes from options.since on the first connection', async () => {
    const { client, first, frames } = await connected(9, { since: 7 });
    expect(first.query.get('since')).toBe('7');
    first.receive(chunk(8));
    first.receive(chunk(9));
    first.receive(chunk(10));
    expect(seqs(frames)).toEqual([
      'welcome:9',
      'agent_response_chunk:8',
      'agent_response_chunk:9',
      'agent_response_chunk:10',
    ]);
    await client.close();
  });

  it('delivers the welcome and the frames that came with it to readers subscribed right after', async () => {
    const server = fakeServer();
    const pending = connect({
      url: 'ws://127.0.0.1:8080',
      conversationId: 'demo',
      WebSocket: server.WebSocket,
    });
    const socket = await server.socket(0);
    socket.accept(4);
    socket.receive(chunk(5));
    const client = await pending;
    const iterator = client.frames();
    expect((await iterator.next()).value).toMatchObject({ type: 'welcome', seq: 4 });
    expect((await iterator.next()).value).toMatchObject({ type: 'agent_response_chunk', seq: 5 });
    await client.close();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('rejects with connect_failed when the first connection closes before welcome', async () => {
    const server = fakeServer();
    const pending = connect({
      url: 'http://127.0.0.1:8080',
      conversationId: 'demo',
      WebSocket: server.WebSocket,
    });
    (await server.socket(0)).drop(1006);
    await expect(pending).rejects.toMatchObject({ code: 'connect_failed', closeCode: 1006 });
    expect(server.sockets).toHaveLength(1);
  });

  it('rejects with invalid_options for a malformed conversation id or url', async () => {
    await expect(connect({ url: 'http://x', conversationId: 'a b' })).rejects.toMatchObject({
      code: 'invalid_options',
    });
    await expect(connect({ url: 'ftp://x', conversationId: 'demo' })).rejects.toMatchObject({
      code: 'invalid_options',
    });
  });
});

describe('sequence numbers', () => {
  it('drops a conversation event whose seq it already delivered and always delivers direct frames', async () => {
    const { client, first, frames } = await connected(1);
    first.receive(chunk(2));
    first.receive(chunk(2));
    first.receive(chunk(1));
    first.receive({ type: 'pong', ...envelope(2), id: 'p' });
    first.receive({ type: 'error', ...envelope(2), code: 'busy', message: 'busy' });
    first.receive(chunk(3));
    expect(seqs(frames)).toEqual([
      'welcome:1',
      'agent_response_chunk:2',
      'pong:2',
      'error:2',
      'agent_response_chunk:3',
    ]);
    expect(client.lastSeq).toBe(3);
    await client.close();
  });

  it('reports a gap as seq_gap and still delivers the event', async () => {
    const { client, first, frames, statuses } = await connected(1);
    first.receive(chunk(2));
    first.receive(chunk(5));
    expect(seqs(frames)).toEqual(['welcome:1', 'agent_response_chunk:2', 'agent_response_chunk:5']);
    expect(statuses).toHaveLength(1);
    expect(statuses[0]?.status).toBe('open');
    expect(statuses[0]?.error).toMatchObject({
      code: 'seq_gap',
      message: 'Expected seq 3, received 5 (agent_response_chunk).',
      details: { expected: 3, received: 5 },
    });
    await client.close();
  });

  it('skips a frame that fails the schema and reports invalid_frame', async () => {
    const { client, first, frames, statuses } = await connected(0);
    first.receive({ type: 'agent_response_chunk', ...envelope(1) });
    first.receive('not json');
    first.receive(chunk(1));
    expect(seqs(frames)).toEqual(['welcome:0', 'agent_response_chunk:1']);
    expect(statuses.map(({ error }) => error?.code)).toEqual(['invalid_frame', 'invalid_frame']);
    await client.close();
  });
  it('passes frames through unchecked, unknown types included, when validate is false', async () => {
    const { client, first, frames, statuses } = await connected(0, { validate: false });
    first.receive({ type: 'reaction', ...envelope(1), emoji: '+1' });
    first.receive(chunk(2));
    expect(frames.map((frame) => frame.type)).toEqual([
      'welcome',
      'reaction',
      'agent_response_chunk',
    ]);
    expect(statuses).toEqual([]);
    await client.close();
  });

  it('reports a throwing subscriber as listener_failed and still serves the others', async () => {
    const { client, first, frames, statuses } = await connected(0);
    client.subscribe(() => {
      throw new Error('boom');
    });
    const after: number[] = [];
    client.subscribe((frame) => after.push(frame.seq));
    first.receive(chunk(1));
    expect(seqs(frames)).toEqual(['welcome:0', 'agent_response_chunk:1']);
    expect(after).toEqual([1]);
    expect(statuses[0]?.error).toMatchObject({ code: 'listener_failed', cause: new Error('boom') });
    await client.close();
  });
});

describe('reconnection', () => {
  it('reconnects after an unexpected close with since=lastSeq and delivers the replay without repeats', async () => {
    const { client, server, first, frames, statuses } = await connected(1);
    first.receive(chunk(2));
    first.receive(chunk(3));
    first.drop(1006);
    expect(client.status).toBe('reconnecting');
    expect(() => {
      client.sendMessage('hello');
    }).toThrow(
      new ParleyClientError(
        'not_open',
        'Cannot send a user_message frame while the client is reconnecting; wait for status "open" (onStatus).',
      ),
    );
    const second = await server.socket(1);
    expect(second.query.get('since')).toBe('3');
    second.accept(5, { resumed_from: 3 });
    second.receive(chunk(3));
    second.receive(chunk(4));
    second.receive(chunk(5));
    expect(seqs(frames)).toEqual([
      'welcome:1',
      'agent_response_chunk:2',
      'agent_response_chunk:3',
      'welcome:5',
      'agent_response_chunk:4',
      'agent_response_chunk:5',
    ]);
    expect(statuses.map(({ status }) => status)).toEqual(['reconnecting', 'open']);
    await client.close();
  });

  it('backs off exponentially while attempts fail, and goes back to the first step on 1012', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    const server = fakeServer();
    const pending = connect({
      url: 'http://127.0.0.1:8080',
      conversationId: 'demo',
      WebSocket: server.WebSocket,
      reconnect: { initialDelayMs: 1_000, maxDelayMs: 3_000 },
    });
    server.sockets[0]?.accept(0);
    const client = await pending;
    const delays: number[] = [];
    const nextDelay = async (close: () => void) => {
      const before = server.sockets.length;
      close();
      let elapsed = 0;
      while (server.sockets.length === before) {
        await vi.advanceTimersByTimeAsync(1);
        elapsed += 1;
      }
      delays.push(elapsed);
    };
    await nextDelay(() => server.sockets.at(-1)?.drop(1006));
    await nextDelay(() => server.sockets.at(-1)?.drop(1006));
    await nextDelay(() => server.sockets.at(-1)?.drop(1006));
    await nextDelay(() => server.sockets.at(-1)?.drop(1006));
    await nextDelay(() => server.sockets.at(-1)?.drop(1012));
    // Full jitter with random() just under 1: each delay is its step's ceiling minus 1 ms.
    expect(delays).toEqual([999, 1_999, 2_999, 2_999, 999]);
    server.sockets.at(-1)?.accept(0);
    expect(client.status).toBe('open');
    await nextDelay(() => server.sockets.at(-1)?.drop(1011));
    expect(delays.at(-1)).toBe(999);
    const closing = client.close();
    await vi.runAllTimersAsync();
    await closing;
  });

  it.each([1003, 1007, 1008])(
    'does not reconnect after %i and ends frames() with rejected',
    async (code) => {
      const { client, server, first, statuses } = await connected(0);
      const iterator = client.frames();
      first.receive({
        type: 'error',
        ...envelope(0),
        code: 'policy_violation',
        message: 'Too many invalid frames.',
      });
      first.drop(code, 'policy_violation');
      expect(client.status).toBe('closed');
      expect(server.sockets).toHaveLength(1);
      const expected = {
        code: 'rejected',
        closeCode: code,
        message: `The server closed with ${code} (policy_violation; Too many invalid frames.); not reconnecting.`,
      };
      expect(statuses.at(-1)).toMatchObject({ status: 'closed', error: expected });
      expect((await iterator.next()).value).toMatchObject({ type: 'error' });
      await expect(iterator.next()).rejects.toMatchObject(expected);
      await client.close();
    },
  );

  it('gives up with reconnect_failed after maxAttempts failed attempts', async () => {
    const { client, server, first, statuses } = await connected(0, {
      reconnect: { initialDelayMs: 1, maxAttempts: 2 },
    });
    first.drop(1006);
    (await server.socket(1)).drop(1006);
    (await server.socket(2)).drop(1006);
    expect(client.status).toBe('closed');
    expect(statuses.at(-1)?.error).toMatchObject({
      code: 'reconnect_failed',
      message: 'Gave up after 2 reconnection attempts.',
    });
    expect(server.sockets).toHaveLength(3);
  });

  it('ends with connection_lost when reconnect is false', async () => {
    const { client, first, statuses } = await connected(0, { reconnect: false });
    first.drop(1006);
    expect(client.status).toBe('closed');
    expect(statuses.at(-1)?.error).toMatchObject({ code: 'connection_lost', closeCode: 1006 });
  });

  it('asks the token function again for every connection', async () => {
    let issued = 0;
    const { client, server, first } = await connected(0, {
      token: () => `token-${String((issued += 1))}`,
    });
    first.drop(1001);
    const second = await server.socket(1);
    expect(first.protocols).toEqual(['parley.v1', 'bearer.token-1']);
    expect(second.protocols).toEqual(['parley.v1', 'bearer.token-2']);
    await client.close();
  });
});

describe('history', () => {
  it('resolves with the history frame carrying its request_id', async () => {
    const { client, first } = await connected(3);
    const page = client.history({ after: 0, limit: 2 });
    expect(first.sent).toEqual([{ type: 'history', after: 0, limit: 2, request_id: 'history-1' }]);
    first.receive({
      type: 'history',
      ...envelope(3),
      request_id: 'other',
      frames: [],
      has_more: false,
    });
    first.receive({
      type: 'history',
      ...envelope(3),
      request_id: 'history-1',
      frames: [chunk(1), chunk(2)],
      has_more: true,
    });
    await expect(page).resolves.toMatchObject({ request_id: 'history-1', has_more: true });
    await client.close();
  });

  it('rejects with request_failed on an error frame in reply to it, or when its connection drops', async () => {
    const { client, first, server } = await connected(3);
    const refused = client.history({ before: 2 });
    first.receive({
      type: 'error',
      ...envelope(3),
      code: 'log_unavailable',
      message: 'The event log is unavailable.',
      in_reply_to: 'history-1',
    });
    await expect(refused).rejects.toMatchObject({
      code: 'request_failed',
      details: { code: 'log_unavailable', message: 'The event log is unavailable.' },
    });
    const dropped = client.history();
    first.drop(1006);
    await expect(dropped).rejects.toMatchObject({ code: 'request_failed', closeCode: 1006 });
    (await server.socket(1)).accept(3);
    await client.close();
  });
});

describe('frames() and close()', () => {
  it('ends an iterator that falls more than maxBufferedFrames behind with frame_buffer_overflow', async () => {
    const { client, first } = await connected(0);
    const iterator = client.frames({ maxBufferedFrames: 2 });
    first.receive(chunk(1));
    first.receive(chunk(2));
    first.receive(chunk(3));
    expect((await iterator.next()).value).toMatchObject({ seq: 1 });
    expect((await iterator.next()).value).toMatchObject({ seq: 2 });
    await expect(iterator.next()).rejects.toMatchObject({ code: 'frame_buffer_overflow' });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    await client.close();
  });

  it('close() sends 1000, finishes iterators and rejects pending waits with client_closed', async () => {
    const { client, first, statuses } = await connected(0);
    const iterator = client.frames();
    const next = iterator.next();
    const waiting = client.waitFor((frame) => frame.type === 'agent_response_complete');
    await client.close();
    expect(first.closedWith).toEqual([{ code: 1000, reason: 'client closed' }]);
    expect(await next).toEqual({ value: undefined, done: true });
    await expect(waiting).rejects.toMatchObject({ code: 'client_closed' });
    expect(statuses).toEqual([{ status: 'closed', error: undefined }]);
    expect(() => {
      client.cancel();
    }).toThrow(ParleyClientError);
  });

  it('rejects waitFor with timeout when no frame matches in time', async () => {
    const { client } = await connected(0);
    await expect(client.waitFor(() => false, { timeoutMs: 5 })).rejects.toMatchObject({
      code: 'timeout',
      message: 'Timed out after 5 ms waiting for a matching frame.',
    });
    await client.close();
  });
});
