import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../src/protocol/frames.js';
import { connectClient, eventFrames, type TestClient } from './support/test-client.js';
import { createFirehoseModel } from './support/test-models.js';
import { startTestServer } from './support/test-server.js';

/** A small deterministic PRNG (mulberry32), so a failing run can be repeated. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const lastEventSeq = (client: TestClient) => eventFrames(client.frames).at(-1)?.seq ?? 0;

describe('resume after a reconnect', () => {
  it('sends exactly the missed frames, then the live ones, when reconnecting mid-answer with ?since=', async () => {
    const server = await startTestServer({ tokenPacingMs: 5 });
    const observer = await connectClient(server.url, 'resume', 'observer');
    const alice = await connectClient(server.url, 'resume', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    await alice.waitForType('agent_response_chunk', (frame) => frame.index === 3);
    await alice.close();
    const since = lastEventSeq(alice);

    // Time passes: the answer goes on while alice is away.
    await observer.waitForType('agent_response_chunk', (frame) => frame.index === 12);
    const again = await connectClient(server.url, 'resume', 'alice', {
      query: `user_id=alice&since=${since}`,
    });
    expect(again.frames[0]).toMatchObject({ type: 'welcome', resumed_from: since });
    await again.waitForType('agent_response_complete');
    await observer.waitForType('presence', (f) => f.status === 'joined' && f.seq > since);

    const seen = [...eventFrames(alice.frames), ...eventFrames(again.frames)];
    // alice joined second (the observer's presence is seq 1): from seq 2 on, no gap, no repeat.
    const seqs = seen.map((frame) => frame.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 2));
    const observed = eventFrames(observer.frames).filter((frame) => frame.seq >= 2);
    const strip = ({ timestamp: _t, ...rest }: ServerFrame) => rest;
    // Everything the observer saw from its join on, alice saw too, identically.
    expect(
      seen
        .filter((frame) => frame.seq >= 2)
        .slice(0, observed.length)
        .map(strip),
    ).toEqual(observed.map(strip));
  });

  it('resumes with 0 gaps and 0 duplicates from 200 random disconnect points during a streamed answer', async () => {
    const server = await startTestServer({
      model: createFirehoseModel(4000, 8),
      tokenPacingMs: 1,
      turnTimeoutMs: 120_000,
    });
    const observer = await connectClient(server.url, 'chaos', 'observer');
    const next = random(20261124);
    let client = await connectClient(server.url, 'chaos', 'flaky');
    const seen: ServerFrame[] = [...eventFrames(client.frames)];
    client.send({ type: 'user_message', content: 'stream' });
    let reconnects = 0;
    while (reconnects < 200) {
      const target = lastEventSeq(client) + 1 + Math.floor(next() * 12);
      const done = await Promise.race([
        client
          .waitFor((frame) => frame.type !== 'welcome' && frame.seq >= target)
          .then(() => false),
        client.waitForType('agent_response_complete').then(() => true),
      ]);
      if (done) break;
      // Drop without a goodbye, as a network failure would.
      client.socket.terminate();
      await client.closed;
      seen.push(...eventFrames(client.frames).filter((frame) => !seen.includes(frame)));
      const since = seen.at(-1)?.seq ?? 0;
      client = await connectClient(server.url, 'chaos', 'flaky', {
        query: `user_id=flaky&since=${since}`,
      });
      reconnects += 1;
    }
    await client.waitForType('agent_response_complete');
    seen.push(...eventFrames(client.frames));
    await observer.waitForType('agent_response_complete');

    expect(reconnects).toBe(200);
    const chunks = seen.filter((frame) => frame.type === 'agent_response_chunk');
    const chunkSeqs = chunks.map((frame) => frame.seq);
    expect(new Set(chunkSeqs).size).toBe(chunkSeqs.length); // no duplicates
    const observedChunks = eventFrames(observer.frames).filter(
      (frame) => frame.type === 'agent_response_chunk',
    );
    expect(chunkSeqs).toEqual(observedChunks.map((frame) => frame.seq)); // no gaps
    expect(chunks).toHaveLength(4000);
  }, 60_000);

  it('resumes 600 missed frames under the default outbound limit, welcome first (the 255-frame bug)', async () => {
    // Resume used to send 500-frame pages against the 256-frame outbound limit: a client that
    // missed 255 or more frames was closed with 1013 before its welcome, on every reconnect.
    const server = await startTestServer({ model: createFirehoseModel(600, 8) });
    const observer = await connectClient(server.url, 'gap', 'observer');
    const alice = await connectClient(server.url, 'gap', 'alice');
    const since = lastEventSeq(alice);
    await alice.close();
    observer.send({ type: 'user_message', content: 'stream' });
    const complete = await observer.waitForType('agent_response_complete');
    expect(complete.seq - since).toBeGreaterThanOrEqual(600);

    const again = await connectClient(server.url, 'gap', 'alice', {
      query: `user_id=alice&since=${since}`,
    });
    expect(again.frames[0]).toMatchObject({ type: 'welcome', resumed_from: since });
    const joined = await again.waitForType(
      'presence',
      (frame) => frame.status === 'joined' && frame.seq > complete.seq,
    );
    const seqs = eventFrames(again.frames).map((frame) => frame.seq);
    expect(seqs).toEqual(
      Array.from({ length: joined.seq - since }, (_, index) => since + 1 + index),
    );
    const strip = ({ timestamp: _t, ...rest }: ServerFrame) => rest;
    expect(
      eventFrames(again.frames)
        .filter((frame) => frame.seq <= complete.seq)
        .map(strip),
    ).toEqual(
      eventFrames(observer.frames)
        .filter((frame) => frame.seq > since && frame.seq <= complete.seq)
        .map(strip),
    );
    expect(again.socket.readyState).toBe(again.socket.OPEN);
  });

  it('pages a gap of thousands of frames while the answer goes on live, with no gap and no duplicate', async () => {
    const server = await startTestServer({
      model: createFirehoseModel(6000, 64),
      turnTimeoutMs: 120_000,
    });
    const observer = await connectClient(server.url, 'storm', 'observer');
    const alice = await connectClient(server.url, 'storm', 'alice');
    observer.send({ type: 'user_message', content: 'stream' });
    await alice.waitForType('agent_response_chunk', (frame) => frame.index === 5);
    alice.socket.terminate();
    await alice.closed;
    const since = lastEventSeq(alice);
    await observer.waitForType('agent_response_chunk', (frame) => frame.index === 2500);

    const again = await connectClient(server.url, 'storm', 'alice', {
      query: `user_id=alice&since=${since}`,
    });
    const complete = await again.waitForType('agent_response_complete');
    await observer.waitForType('agent_response_complete');
    const seqs = eventFrames(again.frames).map((frame) => frame.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => since + 1 + index));
    expect(seqs).toContain(complete.seq);
    const chunks = [...eventFrames(alice.frames), ...eventFrames(again.frames)].filter(
      (frame) => frame.type === 'agent_response_chunk',
    );
    expect(chunks).toHaveLength(6000);
  }, 60_000);

  it('answers resume_unavailable for a seq the conversation has not reached', async () => {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'ahead', 'alice');
    alice.send({ type: 'resume', since: 99 });
    const error = await alice.waitForType('error');
    expect(error).toMatchObject({
      code: 'resume_unavailable',
      in_reply_to: 'resume',
      details: { current_seq: 1 },
    });
  });
});

describe('history', () => {
  it('pages through past events by frame and over HTTP', async () => {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'pages', 'alice');
    alice.send({ type: 'user_message', content: 'What is 5 + 3?' });
    const complete = await alice.waitForType('agent_response_complete');

    alice.send({ type: 'history', after: 0, limit: 3, request_id: 'r1' });
    const first = await alice.waitForType('history', (frame) => frame.request_id === 'r1');
    expect(first.frames.map((frame) => frame.seq)).toEqual([1, 2, 3]);
    expect(first.has_more).toBe(true);
    alice.send({ type: 'history', before: complete.seq, limit: 2, request_id: 'r2' });
    const last = await alice.waitForType('history', (frame) => frame.request_id === 'r2');
    expect(last.frames.map((frame) => frame.seq)).toEqual([complete.seq - 2, complete.seq - 1]);

    const response = await fetch(
      `${server.url}/api/conversations/pages/events?after=${complete.seq - 1}&user_id=alice`,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      frames: ServerFrame[];
      last_seq: number;
      has_more: boolean;
    };
    expect(body).toMatchObject({ last_seq: complete.seq, has_more: false });
    expect(body.frames).toEqual([
      alice.frames.find(
        (frame) => frame.seq === complete.seq && frame.type === 'agent_response_complete',
      ),
    ]);

    const anonymous = await fetch(`${server.url}/api/conversations/pages/events`);
    expect(anonymous.status).toBe(401);
    const bad = await fetch(`${server.url}/api/conversations/pages/events?limit=0&user_id=alice`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('limit');
  });
});
