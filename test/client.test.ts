import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, type ParleyClientError, type ParleyClientStatus } from '../src/client/index.js';
import { DIRECT_FRAME_TYPES, type ServerFrame } from '../src/protocol/frames.js';
import { startTestServer } from './support/test-server.js';

/** `ws` with every instance recorded, so a test can cut the client's connection under it. */
function recordingWebSocket() {
  const sockets: WebSocket[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return { WebSocket: RecordingWebSocket, sockets };
}

const isEvent = (frame: ServerFrame) =>
  !(DIRECT_FRAME_TYPES as readonly string[]).includes(frame.type);

/** The seqs of `frames`' conversation events, and the run they would be without gaps or repeats. */
function eventSeqs(frames: readonly ServerFrame[]) {
  const seqs = frames.filter(isEvent).map((frame) => frame.seq);
  const first = seqs[0] ?? 0;
  return { seqs, gapless: seqs.map((_, index) => first + index) };
}

/** Resolves when the client reaches `status`, with the error reported alongside. */
function statusReached(
  client: {
    onStatus: (
      listener: (status: ParleyClientStatus, error?: ParleyClientError) => void,
    ) => () => void;
  },
  status: ParleyClientStatus,
) {
  return new Promise<ParleyClientError | undefined>((resolve) => {
    const stop = client.onStatus((current, error) => {
      if (current !== status) return;
      stop();
      resolve(error);
    });
  });
}

describe('parley-engine/client against a real server', () => {
  it('sends "What is 5 + 3?" and reads frames() up to the answer "5 + 3 = 8."', async () => {
    const server = await startTestServer();
    const client = await connect({
      url: server.url,
      conversationId: 'client-math',
      userId: 'alice',
    });
    expect(client.status).toBe('open');
    const frames = client.frames();
    client.sendMessage('What is 5 + 3?', 'm-1');

    const seen: ServerFrame[] = [];
    for await (const frame of frames) {
      seen.push(frame);
      if (frame.type === 'agent_response_complete') break;
    }
    expect(seen[0]).toMatchObject({ type: 'welcome', seq: 0, user_id: 'alice' });
    expect(seen[1]).toMatchObject({ type: 'presence', seq: 1, status: 'joined' });
    expect(seen.find((frame) => frame.type === 'user_message')).toMatchObject({
      content: 'What is 5 + 3?',
      client_message_id: 'm-1',
    });
    expect(seen.at(-1)).toMatchObject({ status: 'completed', content: '5 + 3 = 8.' });
    const { seqs, gapless } = eventSeqs(seen);
    expect(seqs).toEqual(gapless);
    expect(client.lastSeq).toBe(seqs.at(-1));
    await client.close();
    expect(client.status).toBe('closed');
  });

  it('calls a subscriber with each frame until it unsubscribes', async () => {
    const server = await startTestServer();
    const client = await connect({
      url: server.url,
      conversationId: 'client-sub',
      userId: 'alice',
    });
    const received: string[] = [];
    const unsubscribe = client.subscribe((frame) => {
      if (frame.type === 'pong') received.push(frame.id ?? '');
    });
    const first = client.waitFor((frame) => frame.type === 'pong' && frame.id === 'p-1');
    client.send({ type: 'ping', id: 'p-1' });
    await first;
    unsubscribe();
    const second = client.waitFor((frame) => frame.type === 'pong' && frame.id === 'p-2');
    client.send({ type: 'ping', id: 'p-2' });
    await second;
    expect(received).toEqual(['p-1']);
    await client.close();
  });

  it('pages through history, answered by request_id with the frames as they were sent', async () => {
    const server = await startTestServer();
    const client = await connect({
      url: server.url,
      conversationId: 'client-history',
      userId: 'alice',
    });
    const seen: ServerFrame[] = [];
    client.subscribe((frame) => seen.push(frame));
    const complete = client.waitFor((frame) => frame.type === 'agent_response_complete');
    client.sendMessage('What is 5 + 3?');
    await complete;

    const events = seen.filter(isEvent);
    const all = await client.history({ after: 0, limit: 500 });
    expect(all).toMatchObject({ type: 'history', request_id: 'history-1', has_more: false });
    expect(all.frames).toEqual(events);

    const last = client.lastSeq;
    const page = await client.history({ before: last, limit: 3 });
    expect(page.request_id).toBe('history-2');
    expect(page.frames.map((frame) => frame.seq)).toEqual([last - 3, last - 2, last - 1]);
    expect(page.has_more).toBe(true);
    await client.close();
  });

  it('reconnects after a network drop mid-stream with since=lastSeq and sees every event once, in order', async () => {
    const server = await startTestServer({ tokenPacingMs: 5 });
    const recording = recordingWebSocket();
    const client = await connect({
      url: server.url,
      conversationId: 'client-drop',
      userId: 'alice',
      WebSocket: recording.WebSocket,
      reconnect: { initialDelayMs: 20 },
    });
    const seen: ServerFrame[] = [];
    client.subscribe((frame) => seen.push(frame));
    const problems: ParleyClientError[] = [];
    const statuses: ParleyClientStatus[] = [];
    let sinceAtDrop: number | undefined;
    client.onStatus((status, error) => {
      statuses.push(status);
      if (error !== undefined) problems.push(error);
      if (status === 'reconnecting') sinceAtDrop = client.lastSeq;
    });

    const midStream = client.waitFor(
      (frame) => frame.type === 'agent_response_chunk' && frame.index === 1,
    );
    const complete = client.waitFor((frame) => frame.type === 'agent_response_complete');
    client.sendMessage('What is 5 + 3?');
    await midStream;
    // No close frame, no FIN handshake: what a client sees when the network goes away (1006).
    recording.sockets[0]?.terminate();
    const answer = await complete;

    expect(statuses).toEqual(['reconnecting', 'open']);
    expect(recording.sockets).toHaveLength(2);
    expect(sinceAtDrop).toBeGreaterThan(0);
    expect(new URL(recording.sockets[1]?.url ?? '').searchParams.get('since')).toBe(
      String(sinceAtDrop),
    );
    const welcomes = seen.filter((frame) => frame.type === 'welcome');
    expect(welcomes[1]).toMatchObject({ resumed_from: sinceAtDrop });
    const { seqs, gapless } = eventSeqs(seen);
    expect(seqs).toEqual(gapless);
    const chunks = seen.filter((frame) => frame.type === 'agent_response_chunk');
    expect(chunks.map((chunk) => chunk.index)).toEqual(chunks.map((_, index) => index));
    expect(chunks.map((chunk) => chunk.delta).join('')).toBe('5 + 3 = 8.');
    expect(answer).toMatchObject({ status: 'completed', content: '5 + 3 = 8.' });
    expect(problems).toEqual([]);
    await client.close();
  });

  it('ends the frames() iterator when the client is closed', async () => {
    const server = await startTestServer();
    const client = await connect({
      url: server.url,
      conversationId: 'client-close',
      userId: 'alice',
    });
    const presence = client.waitFor((frame) => frame.type === 'presence');
    const types: string[] = [];
    const reading = (async () => {
      for await (const frame of client.frames()) types.push(frame.type);
    })();
    await presence;
    await client.close();
    await reading;
    expect(types).toEqual(['welcome', 'presence']);
    expect(client.status).toBe('closed');
  });

  it('does not reconnect after the server closes with 1008 and ends frames() with the error', async () => {
    const server = await startTestServer();
    const recording = recordingWebSocket();
    const client = await connect({
      url: server.url,
      conversationId: 'client-policy',
      userId: 'alice',
      WebSocket: recording.WebSocket,
      reconnect: { initialDelayMs: 1 },
    });
    const closed = statusReached(client, 'closed');
    const reading = (async () => {
      const types: string[] = [];
      try {
        for await (const frame of client.frames()) types.push(frame.type);
      } catch (error) {
        return { types, error };
      }
      return { types, error: undefined };
    })();
    for (let strike = 0; strike < 10; strike += 1) client.send({ type: 'nope' } as never);

    const error = await closed;
    expect(error).toMatchObject({ code: 'rejected', closeCode: 1008 });
    expect(error?.message).toMatch(
      /^The server closed with 1008 \(policy_violation; .*\); not reconnecting\.$/,
    );
    const { types, error: thrown } = await reading;
    expect(thrown).toBe(error);
    expect(types.filter((type) => type === 'error')).toHaveLength(10);
    expect(recording.sockets).toHaveLength(1);
    expect(client.status).toBe('closed');
  });
});
