/**
 * A WebSocket test client that records every frame and lets a test await the frame it expects
 * (never a sleep).
 */
import { WebSocket, type ClientOptions } from 'ws';
import type { ServerFrame } from '../../src/protocol/frames.js';

export interface TestClient {
  readonly socket: WebSocket;
  readonly frames: ServerFrame[];
  send(frame: unknown): void;
  sendRaw(data: string | Buffer, options?: { binary?: boolean }): void;
  /** Resolves with the first recorded frame (past or future) matching the predicate. */
  waitFor<T extends ServerFrame = ServerFrame>(
    predicate: (frame: ServerFrame) => boolean,
    description?: string,
  ): Promise<T>;
  waitForType<TType extends ServerFrame['type']>(
    type: TType,
    predicate?: (frame: Extract<ServerFrame, { type: TType }>) => boolean,
  ): Promise<Extract<ServerFrame, { type: TType }>>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/** Opens a client on `ws://…/ws/chat/<conversation>?user_id=<user>` and waits for `welcome`. */
export async function connectClient(
  baseUrl: string,
  conversationId: string,
  userId: string,
  options: ClientOptions & { query?: string; protocols?: string[] } = {},
): Promise<TestClient> {
  const {
    query = `user_id=${encodeURIComponent(userId)}`,
    protocols = [],
    ...socketOptions
  } = options;
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws/chat/${encodeURIComponent(conversationId)}?${query}`;
  const socket = new WebSocket(url, protocols, socketOptions);
  const frames: ServerFrame[] = [];
  const waiters: {
    predicate: (frame: ServerFrame) => boolean;
    resolve: (f: ServerFrame) => void;
  }[] = [];
  socket.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString('utf8')) as ServerFrame;
    frames.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString('utf8') });
    });
  });
  socket.on('error', () => undefined);
  const waitFor = <T extends ServerFrame>(
    predicate: (frame: ServerFrame) => boolean,
    description = 'frame',
  ): Promise<T> => {
    const found = frames.find(predicate);
    if (found !== undefined) return Promise.resolve(found as T);
    return new Promise<T>((resolve, reject) => {
      const waiter = { predicate, resolve: resolve as (frame: ServerFrame) => void };
      waiters.push(waiter);
      void closed.then(({ code }) => {
        if (waiters.includes(waiter)) {
          reject(new Error(`socket closed (${code}) while waiting for ${description}`));
        }
      });
    });
  };
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => {
      resolve();
    });
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`upgrade refused with ${response.statusCode}`));
    });
    socket.once('error', reject);
  });
  const client: TestClient = {
    socket,
    frames,
    send(frame) {
      socket.send(JSON.stringify(frame));
    },
    sendRaw(data, { binary = false } = {}) {
      socket.send(data, { binary });
    },
    waitFor,
    waitForType: (type, predicate = () => true) =>
      waitFor((frame) => frame.type === type && predicate(frame as never), `a ${type} frame`),
    closed,
    async close() {
      if (socket.readyState === socket.OPEN) socket.close(1000);
      await closed;
    },
  };
  await client.waitForType('welcome');
  return client;
}

/** Conversation event frames (those that carry a new seq), in arrival order. */
export function eventFrames(frames: readonly ServerFrame[]): ServerFrame[] {
  return frames.filter(
    (frame) => frame.type !== 'welcome' && frame.type !== 'pong' && frame.type !== 'error',
  );
}

/** The answer to an upgrade that the server refuses: status and JSON body. */
export function upgradeRefusal(url: string, options: ClientOptions = {}) {
  return new Promise<{ status: number; body: { code: string; message: string } }>(
    (resolve, reject) => {
      const socket = new WebSocket(url.replace(/^http/, 'ws'), options);
      socket.on('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(body) as never });
        });
      });
      socket.on('open', () => {
        socket.close();
        reject(new Error('the upgrade was accepted'));
      });
      socket.on('error', () => undefined);
    },
  );
}

/**
 * Fills the conversation's log with the client's typing indicators until its last seq is `seq`
 * (for tests that place a history page boundary), 50 at a time, each batch awaited.
 */
export async function fillLogUntil(client: TestClient, seq: number): Promise<void> {
  const lastSeq = () => client.frames.at(-1)?.seq ?? 0;
  let typing = false;
  while (lastSeq() < seq) {
    const until = Math.min(lastSeq() + 50, seq);
    for (let next = lastSeq(); next < until; next += 1) {
      typing = !typing;
      client.send({ type: 'typing_indicator', is_typing: typing });
    }
    await client.waitFor((frame) => frame.seq === until, `seq ${String(until)}`);
  }
}
