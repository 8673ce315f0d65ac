/**
 * Cluster mode end to end: three `parley serve` processes on loopback sharing the test PostgreSQL
 * (a fresh schema) and the test Redis (a fresh key prefix); participants of one conversation on
 * all three. Repeated kill -9 at random points: cluster-storm.test.ts.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  describeCluster,
  probeCluster,
  clusterHealth,
  eventsFrom,
  healthUntil,
  isGapless,
  kill9,
  sendUntilTaken,
  seqsOf,
  startInstance,
} from './support/cluster-processes.js';
import { connectClient } from './support/test-client.js';

const probes = await probeCluster();

describe('cluster mode', () => {
  describeCluster(probes, ({ environment }) => {
    it(
      'gives participants on three instances the identical gapless frames of an answer with a tool call',
      { timeout: 60_000 },
      async () => {
        const env = environment();
        const [a, b, c] = await Promise.all([
          startInstance(env, 'a'),
          startInstance(env, 'b'),
          startInstance(env, 'c'),
        ]);
        const alice = await connectClient(a.url, 'demo', 'alice');
        const bob = await connectClient(b.url, 'demo', 'bob');
        const carol = await connectClient(c.url, 'demo', 'carol');
        const joinedAt = (await carol.waitForType('welcome')).seq;
        bob.send({ type: 'user_message', content: 'What is 12 * 7?' });
        const answers = await Promise.all(
          [alice, bob, carol].map((client) => client.waitForType('agent_response_complete')),
        );
        expect(answers[0]).toMatchObject({ status: 'completed' });
        expect(answers[0]?.content).toContain('84');
        const seen = [alice, bob, carol].map((client) => eventsFrom(client.frames, joinedAt + 1));
        expect(seen[0]?.map((frame) => frame.type)).toContain('tool_call');
        expect(seen[0]?.map((frame) => frame.type)).toContain('tool_result');
        expect(isGapless(seqsOf(seen[0] ?? []))).toBe(true);
        expect(seen[1]).toEqual(seen[0]);
        expect(seen[2]).toEqual(seen[0]);
        // One owner; the others follow it.
        const health = await Promise.all([a, b, c].map((instance) => clusterHealth(instance)));
        expect(health.map((item) => item.owned).sort()).toEqual([0, 0, 1]);
        expect(health.map((item) => item.followed).sort()).toEqual([0, 1, 1]);
        // The inspector of every instance names the owner; the owner lists it as owned.
        const views = await Promise.all(
          [a, b, c].map(async (instance) => {
            const response = await fetch(`${instance.url}/inspector/cluster`);
            return (await response.json()) as {
              instance_id: string;
              conversations: { conversation_id: string; role: string; owner: string }[];
            };
          }),
        );
        const owner = views.find((view) => view.conversations[0]?.role === 'owner')?.instance_id;
        expect(owner).toBeDefined();
        for (const view of views) {
          expect(view.conversations).toEqual([
            expect.objectContaining({
              conversation_id: 'demo',
              owner,
              role: view.instance_id === owner ? 'owner' : 'follower',
              local_connections: 1,
            }),
          ]);
        }
        await Promise.all([alice, bob, carol].map((client) => client.close()));
      },
    );

    it(
      'after kill -9 of the owner mid-answer, another instance takes over: the turn ends interrupted, nobody sees a gap or a duplicate, the next message is answered',
      { timeout: 60_000 },
      async () => {
        const env = environment();
        const [a, b, c] = await Promise.all([
          startInstance(env, 'a'),
          startInstance(env, 'b'),
          startInstance(env, 'c'),
        ]);
        const alice = await connectClient(a.url, 'crash', 'alice');
        const bob = await connectClient(b.url, 'crash', 'bob');
        const carol = await connectClient(c.url, 'crash', 'carol');
        const joinedAt = (await carol.waitForType('welcome')).seq;
        bob.send({ type: 'user_message', content: 'what can you do?' });
        await bob.waitForType('agent_response_chunk', (frame) => frame.index === 5);
        await kill9(a);
        await alice.closed;
        const since = seqsOf(alice.frames).at(-1) ?? 0;
        // Alice reconnects to a surviving instance and resumes from the last seq she had.
        const again = await connectClient(c.url, 'crash', 'alice', {
          query: `user_id=alice&since=${since}`,
        });
        const ended = await Promise.all(
          [bob, carol, again].map((client) => client.waitForType('agent_response_complete')),
        );
        for (const complete of ended) expect(complete.status).toBe('interrupted');
        for (const client of [bob, carol])
          expect(isGapless(seqsOf(eventsFrom(client.frames, joinedAt + 1)))).toBe(true);
        const aliceSeqs = [...seqsOf(alice.frames), ...seqsOf(again.frames)];
        expect(isGapless(aliceSeqs)).toBe(true);
        const stop = sendUntilTaken(carol, { type: 'user_message', content: 'What is 2 + 2?' });
        const next = await bob.waitForType(
          'agent_response_complete',
          (frame) => frame.seq > (ended[0]?.seq ?? 0),
        );
        stop();
        expect(next).toMatchObject({ status: 'completed', content: '2 + 2 = 4.' });
        await again.waitFor((frame) => frame.seq === next.seq);
        for (const client of [bob, carol])
          expect(isGapless(seqsOf(eventsFrom(client.frames, joinedAt + 1)))).toBe(true);
        expect(isGapless([...seqsOf(alice.frames), ...seqsOf(again.frames)])).toBe(true);
        await Promise.all([bob, carol, again].map((client) => client.close()));
      },
    );

    it(
      'on SIGTERM the owner finishes its turn, releases its lease, and a follower takes over long before the lease would expire',
      { timeout: 20_000 },
      async () => {
        // A 30 s lease: a takeover within this test's 20 s can only come from the release.
        const env = { ...environment(), PARLEY_LEASE_MS: '30000' };
        const a = await startInstance(env, 'a');
        const alice = await connectClient(a.url, 'drain', 'alice');
        const b = await startInstance(env, 'b');
        const bob = await connectClient(b.url, 'drain', 'bob');
        const joinedAt = (await bob.waitForType('welcome')).seq;
        expect((await clusterHealth(a)).owned).toBe(1);
        bob.send({ type: 'user_message', content: 'what can you do?' });
        await bob.waitForType('agent_response_chunk', (frame) => frame.index === 2);
        const exited = once(a.child, 'exit');
        a.child.kill('SIGTERM');
        // The running turn finishes during the drain, at both instances.
        const finished = await bob.waitForType('agent_response_complete');
        expect(finished.status).toBe('completed');
        expect(await exited).toEqual([0, null]);
        await alice.closed;
        const stop = sendUntilTaken(bob, { type: 'user_message', content: 'What is 2 + 2?' });
        const next = await bob.waitForType(
          'agent_response_complete',
          (frame) => frame.content === '2 + 2 = 4.',
        );
        stop();
        expect((await clusterHealth(b)).owned).toBe(1);
        // Alice resumes at the new owner from the last seq she had, with no gap.
        const since = seqsOf(alice.frames).at(-1) ?? 0;
        const again = await connectClient(b.url, 'drain', 'alice', {
          query: `user_id=alice&since=${String(since)}`,
        });
        await again.waitFor((frame) => frame.seq === next.seq);
        expect(isGapless([...seqsOf(alice.frames), ...seqsOf(again.frames)])).toBe(true);
        expect(isGapless(seqsOf(eventsFrom(bob.frames, joinedAt + 1)))).toBe(true);
        await Promise.all([bob.close(), again.close()]);
      },
    );

    it(
      'releases the lease of a conversation nobody uses once the engine stopped it, and another instance takes it with its history',
      { timeout: 20_000 },
      async () => {
        const env = { ...environment(), PARLEY_CONVERSATION_IDLE_MS: '200' };
        const [a, b] = await Promise.all([startInstance(env, 'a'), startInstance(env, 'b')]);
        const alice = await connectClient(a.url, 'idle', 'alice');
        alice.send({ type: 'user_message', content: 'What is 2 + 2?' });
        const answer = await alice.waitForType('agent_response_complete');
        await alice.close();
        // No participant and no turn: the conversation stops after 200 ms, then the lease goes.
        await healthUntil(a, (health) => health.owned === 0);
        const bob = await connectClient(b.url, 'idle', 'bob', {
          query: 'user_id=bob&since=0',
        });
        await bob.waitFor((frame) => frame.seq === answer.seq);
        expect(await clusterHealth(b)).toMatchObject({ owned: 1 });
        bob.send({ type: 'user_message', content: 'What is 3 + 3?' });
        await bob.waitForType('agent_response_complete', (frame) => frame.content === '3 + 3 = 6.');
        expect(isGapless(seqsOf(bob.frames))).toBe(true);
        await bob.close();
      },
    );
  });
});
