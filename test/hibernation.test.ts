import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import type { LanguageModel } from '../src/agent/model.js';
import { SqliteEventStore } from '../src/event-log/sqlite-store.js';
import { exportConversation } from '../src/replay/export-conversation.js';
import { parseRecording } from '../src/replay/read-recording.js';
import { replayRecording } from '../src/replay/replay-recording.js';
import type { ParleyServer } from '../src/server/server.js';
import { connectClient, eventFrames, type TestClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

/** A heartbeat and hibernation delay short enough for real sockets (the defaults are 30 s). */
const TIMERS = { heartbeatIntervalMs: 100, hibernateAfterMs: 100 };

/** Resolves once every connection of the server hibernates. */
async function allHibernated(server: ParleyServer, count: number): Promise<void> {
  await vi.waitFor(
    () => {
      expect(server.engine.stats()).toMatchObject({ connections: count, hibernated: count });
    },
    { timeout: 5_000, interval: 10 },
  );
}

/** Resolves after the socket has received `count` more WebSocket pings. */
async function pings(socket: WebSocket, count: number): Promise<void> {
  for (let received = 0; received < count; received += 1) await once(socket, 'ping');
}

describe('hibernation over real sockets', () => {
  it('keeps a hibernated connection open: the shard pings it and takes its pongs', async () => {
    const server = await startTestServer(TIMERS);
    const alice = await connectClient(server.url, 'quiet', 'alice');
    await allHibernated(server, 1);

    await pings(alice.socket, 3);

    expect(server.engine.stats().hibernated).toBe(1);
    expect(alice.socket.readyState).toBe(alice.socket.OPEN);
  });

  it('wakes on a message; every participant, hibernated or not, gets the whole answer', async () => {
    const server = await startTestServer(TIMERS);
    const alice = await connectClient(server.url, 'math', 'alice');
    const bob = await connectClient(server.url, 'math', 'bob');
    await allHibernated(server, 2);

    alice.send({ type: 'user_message', content: 'What is 5 + 3?' });
    const [forAlice, forBob] = await Promise.all([
      alice.waitForType('agent_response_complete'),
      bob.waitForType('agent_response_complete'),
    ]);

    expect(forAlice).toMatchObject({ status: 'completed', content: '5 + 3 = 8.' });
    expect(forBob).toEqual(forAlice);
    // Woken, not joined again: one welcome each.
    expect(alice.frames.filter((frame) => frame.type === 'welcome')).toHaveLength(1);
    // Quiet again afterwards, so it hibernates again.
    await allHibernated(server, 2);
  });

  it('tells the others when a hibernated participant leaves', async () => {
    const server = await startTestServer(TIMERS);
    const alice = await connectClient(server.url, 'room', 'alice');
    const bob = await connectClient(server.url, 'room', 'bob');
    await allHibernated(server, 2);

    await bob.close();

    const left = await alice.waitForType('presence', (frame) => frame.status === 'left');
    expect(left).toMatchObject({ user_id: 'bob' });
    await vi.waitFor(() => {
      expect(server.engine.stats()).toMatchObject({ connections: 1 });
    });
  });

  it('terminates a hibernated connection that stops answering pings', async () => {
    const server = await startTestServer(TIMERS);
    const mute = await connectClient(server.url, 'room', 'mute', { autoPong: false });
    await allHibernated(server, 1);

    const { code } = await mute.closed;

    expect(code).toBe(1006);
    await vi.waitFor(() => {
      expect(server.engine.stats()).toMatchObject({ connections: 0, hibernated: 0 });
    });
  });

  it('closes hibernated connections with 1012 on shutdown', async () => {
    const server = await startTestServer(TIMERS);
    const alice = await connectClient(server.url, 'room', 'alice');
    await allHibernated(server, 1);

    await server.close();

    expect(await alice.closed).toEqual({ code: 1012, reason: 'server_shutdown' });
  });
});

/** Conversations hibernate after 100 ms without an event too (the default is 30 s). */
const QUIET = { ...TIMERS, conversationHibernateAfterMs: 100 };

/** Resolves once `count` conversations hibernate and none runs. */
async function conversationsHibernated(server: ParleyServer, count: number): Promise<void> {
  await vi.waitFor(
    () => {
      expect(server.engine.stats()).toMatchObject({
        conversations: 0,
        hibernated_conversations: count,
      });
    },
    { timeout: 5_000, interval: 10 },
  );
}

/** A model that says how many messages its request had: the history a woken actor read back. */
const countingModel: LanguageModel = {
  specificationVersion: 'parley.model.v1',
  provider: 'test',
  modelId: 'counting',
  // eslint-disable-next-line @typescript-eslint/require-await
  async *stream(request) {
    yield { type: 'text-delta', delta: `${String(request.messages.length)} messages.` };
    yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
  },
};

const seqsOf = (client: TestClient) => eventFrames(client.frames).map((frame) => frame.seq);
const consecutive = (seqs: number[]) => seqs.map((_, index) => (seqs[0] ?? 0) + index);

const directories: string[] = [];
/** A fresh SQLite log file, its directory removed after the test. */
function databaseFile(): string {
  const directory = mkdtempSync(join(tmpdir(), 'parley-hibernation-'));
  directories.push(directory);
  return join(directory, 'parley.db');
}
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

describe('conversation hibernation over real sockets', () => {
  it('wakes a hibernated conversation on a message: seq, ids and history go on, and the session replays identically', async () => {
    const database = databaseFile();
    const server = await startTestServer({ ...QUIET, database, model: countingModel });
    const alice = await connectClient(server.url, 'nap', 'alice');
    const bob = await connectClient(server.url, 'nap', 'bob');
    alice.send({ type: 'user_message', content: 'first' });
    const first = await bob.waitForType('agent_response_complete');
    await conversationsHibernated(server, 1);
    await allHibernated(server, 2);

    alice.send({ type: 'user_message', content: 'second' });
    const second = await bob.waitForType(
      'agent_response_complete',
      (frame) => frame.turn_id !== first.turn_id,
    );
    await alice.waitForType('agent_response_complete', (frame) => frame.seq === second.seq);

    expect(first.content).toBe('1 messages.');
    // The woken actor read its history back: first question, first answer, second question.
    expect(second.content).toBe('3 messages.');
    // The ids go on from the same seed: turn 2 after turn 1, not a new seed's turn 1.
    expect(second.turn_id).toBe(first.turn_id.replace(/_1$/, '_2'));
    for (const client of [alice, bob]) {
      expect(seqsOf(client)).toEqual(consecutive(seqsOf(client)));
      expect(client.frames.filter((frame) => frame.type === 'welcome')).toHaveLength(1);
    }

    await alice.close();
    await bob.close();
    await server.close();
    const store = SqliteEventStore.open(database);
    const recording = parseRecording(await exportConversation(store, 'nap'), 'nap.jsonl');
    await store.close();
    // The wake left no trace in the log: one segment, and a replay makes the same frames.
    expect(recording.entries.filter((entry) => entry.kind === 'conversation.started')).toHaveLength(
      1,
    );
    const result = await replayRecording(recording);
    expect(result.divergence).toBeUndefined();
  });

  it('wakes a hibernated conversation for a newcomer: everyone is still there and seq goes on', async () => {
    const server = await startTestServer(QUIET);
    const alice = await connectClient(server.url, 'lobby', 'alice');
    await conversationsHibernated(server, 1);

    const bob = await connectClient(server.url, 'lobby', 'bob');
    const welcome = bob.frames[0];
    const joined = await alice.waitForType('presence', (frame) => frame.user_id === 'bob');

    expect(welcome).toMatchObject({ type: 'welcome', participants: ['alice', 'bob'] });
    expect(joined.seq).toBe((seqsOf(alice).at(-2) ?? 0) + 1);
    expect(server.engine.stats()).toMatchObject({ conversations: 1, hibernated_conversations: 0 });
    // Leaving does not wake it: its shard tells the others.
    await conversationsHibernated(server, 1);
    await bob.close();
    const left = await alice.waitForType('presence', (frame) => frame.status === 'left');
    expect(left).toMatchObject({ user_id: 'bob', seq: joined.seq + 1 });
  });

  it('takes leaves without waking the conversation: the others are told, seq goes on, and the session replays identically', async () => {
    const database = databaseFile();
    const server = await startTestServer({ ...QUIET, database, model: countingModel });
    const alice = await connectClient(server.url, 'hall', 'alice');
    const bob = await connectClient(server.url, 'hall', 'bob');
    const carol = await connectClient(server.url, 'hall', 'carol');
    bob.send({ type: 'typing_indicator', is_typing: true });
    await alice.waitForType('typing_indicator', (frame) => frame.user_id === 'bob');
    await conversationsHibernated(server, 1);

    await bob.close();
    // Bob never said he stopped typing: the others hear it for him, then that he left.
    const stopped = await alice.waitForType(
      'typing_indicator',
      (frame) => frame.user_id === 'bob' && !frame.is_typing,
    );
    const bobLeft = await carol.waitForType(
      'presence',
      (frame) => frame.user_id === 'bob' && frame.status === 'left',
    );
    // Told by the shard: the conversation did not wake (awake, it would stay so for a while).
    expect(server.engine.stats()).toMatchObject({ conversations: 0, hibernated_conversations: 1 });
    await carol.close();
    const carolLeft = await alice.waitForType(
      'presence',
      (frame) => frame.user_id === 'carol' && frame.status === 'left',
    );
    expect(server.engine.stats()).toMatchObject({ conversations: 0, hibernated_conversations: 1 });
    expect([stopped.seq, bobLeft.seq, carolLeft.seq]).toEqual([
      stopped.seq,
      stopped.seq + 1,
      stopped.seq + 2,
    ]);
    expect(carolLeft).toMatchObject({ status: 'left', participants: ['alice'] });

    // A message wakes it: it knows who is left, and seq goes on from the leaves.
    alice.send({ type: 'user_message', content: 'anyone?' });
    const answer = await alice.waitForType('agent_response_complete');
    expect(answer.content).toBe('1 messages.');
    expect(seqsOf(alice)).toEqual(consecutive(seqsOf(alice)));

    await alice.close();
    await server.close();
    const store = SqliteEventStore.open(database);
    const recording = parseRecording(await exportConversation(store, 'hall'), 'hall.jsonl');
    await store.close();
    // The leaves are in the log as an awake conversation would have logged them: a replay (which
    // runs the conversation awake) makes the same frames.
    expect(
      recording.entries.filter(
        (entry) => entry.kind === 'input' && entry.input.type === 'participant.leave',
      ),
    ).toHaveLength(3);
    const result = await replayRecording(recording);
    expect(result.divergence).toBeUndefined();
  });

  it('keeps an empty hibernated conversation for the idle time, then forgets it; seq goes on from the log', async () => {
    const server = await startTestServer({ ...QUIET, conversationIdleMs: 300 });
    const alice = await connectClient(server.url, 'empty', 'alice');
    await alice.close();
    await conversationsHibernated(server, 1);
    await conversationsHibernated(server, 0);

    const again = await connectClient(server.url, 'empty', 'alice');
    const joined = await again.waitForType('presence', (frame) => frame.status === 'joined');

    // alice joined (1) and left (2): the new actor read seq 2 back from the log.
    expect(joined.seq).toBe(3);
  });
});
