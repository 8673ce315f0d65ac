import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import type { ParleyServer } from '../src/server/server.js';
import { connectClient } from './support/test-client.js';
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
