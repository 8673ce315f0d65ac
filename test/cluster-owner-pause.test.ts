/**
 * An owner stopped (SIGSTOP) past its lease, another instance takes over, then SIGCONT: the woken
 * owner writes nothing more, and its participants follow the new owner. A message a follower
 * forwarded to the stopped owner is refused with `cluster_unavailable` when the conversation
 * moves, and sent again (the store-level fencing is tested in test/cluster-fencing.test.ts). A
 * message the owner's own engine took just before PostgreSQL fenced the conversation off is
 * refused to its client, never dropped.
 */
import { describe, expect, it } from 'vitest';
import {
  answeredAt,
  describeCluster,
  probeCluster,
  clusterHealth,
  eventsFrom,
  isGapless,
  sendUntilTaken,
  seqsOf,
  startInstance,
} from './support/cluster-processes.js';
import { connectClient } from './support/test-client.js';

const probes = await probeCluster();

describe('cluster mode', () => {
  describeCluster(probes, ({ environment, postgres }) => {
    it(
      'fences an owner stopped past its lease: after SIGCONT it writes nothing, and no client sees a duplicate or a seq out of order',
      { timeout: 60_000 },
      async () => {
        const env = environment();
        const schema = env.PARLEY_DB_SCHEMA ?? '';
        const [a, b, c] = await Promise.all([
          startInstance(env, 'a'),
          startInstance(env, 'b'),
          startInstance(env, 'c'),
        ]);
        const alice = await connectClient(a.url, 'paused', 'alice');
        const bob = await connectClient(b.url, 'paused', 'bob');
        const carol = await connectClient(c.url, 'paused', 'carol');
        const joinedAt = (await carol.waitForType('welcome')).seq;
        bob.send({ type: 'user_message', content: 'what can you do?' });
        const first = await bob.waitForType('agent_response_chunk', (frame) => frame.index === 3);
        a.child.kill('SIGSTOP');
        // Sent to the stopped owner: when it wakes, it either finds its lease gone and refuses the
        // message, or takes it into its engine, whose entries PostgreSQL then refuses (fenced), and
        // refuses it then. Never silence.
        alice.send({ type: 'user_message', content: 'What is 5 + 5?', client_message_id: 'm-5' });
        try {
          // Past the lease (1 s): another instance takes over and closes the cut-off turn.
          const interrupted = await bob.waitForType(
            'agent_response_complete',
            (frame) => frame.turn_id === first.turn_id,
          );
          expect(interrupted.status).toBe('interrupted');
          const stop = sendUntilTaken(bob, { type: 'user_message', content: 'What is 2 + 2?' });
          await carol.waitForType(
            'agent_response_complete',
            (frame) => frame.content === '2 + 2 = 4.',
          );
          stop();
        } finally {
          a.child.kill('SIGCONT');
        }
        // The woken owner's pending tokens and timers run now; then it follows the new owner.
        const answered = await alice.waitFor(
          (frame) =>
            (frame.type === 'user_message' && frame.content === 'What is 5 + 5?') ||
            (frame.type === 'error' &&
              frame.code === 'cluster_unavailable' &&
              frame.in_reply_to === 'user_message'),
          "the stopped owner's message taken or refused",
        );
        if (answered.type === 'error') {
          expect(answered.details).toEqual({ client_message_id: 'm-5' });
        }
        const stop = sendUntilTaken(carol, { type: 'user_message', content: 'What is 3 + 3?' });
        const last = await alice.waitForType(
          'agent_response_complete',
          (frame) => frame.content === '3 + 3 = 6.',
        );
        stop();
        await Promise.all(
          [bob, carol].map((client) => client.waitFor((frame) => frame.seq === last.seq)),
        );
        for (const client of [alice, bob, carol]) {
          const seqs = seqsOf(eventsFrom(client.frames, joinedAt + 1));
          expect(isGapless(seqs)).toBe(true);
        }
        // PostgreSQL: one frame per seq, and nothing of the cut-off turn after its completion.
        const db = await postgres.connect();
        const duplicates = await db.query(
          `SELECT seq FROM ${schema}.entries WHERE conversation_id = 'paused' AND kind = 'frame'
           AND to_connection IS NULL GROUP BY seq HAVING count(*) > 1`,
        );
        expect(duplicates.rows).toEqual([]);
        const late = await db.query(
          `SELECT seq FROM ${schema}.entries WHERE conversation_id = 'paused' AND kind = 'frame'
           AND frame_type = 'agent_response_chunk' AND body::jsonb -> 'frame' ->> 'turn_id' = $1
           AND seq > (SELECT seq FROM ${schema}.entries WHERE conversation_id = 'paused'
                      AND frame_type = 'agent_response_complete'
                      AND body::jsonb -> 'frame' ->> 'turn_id' = $1)`,
          [first.turn_id],
        );
        expect(late.rows).toEqual([]);
        const health = await Promise.all([a, b, c].map((instance) => clusterHealth(instance)));
        expect(health.map((item) => item.owned).sort()).toEqual([0, 0, 1]);
        expect(health[0]?.owned).toBe(0);
        await Promise.all([alice, bob, carol].map((client) => client.close()));
      },
    );

    it(
      'refuses, never drops, a message its engine took when PostgreSQL then fences the conversation off for a newer owner',
      { timeout: 60_000 },
      async () => {
        const env = environment();
        const schema = env.PARLEY_DB_SCHEMA ?? '';
        const [a, b] = await Promise.all([startInstance(env, 'a'), startInstance(env, 'b')]);
        const alice = await connectClient(a.url, 'fenced', 'alice');
        const bob = await connectClient(b.url, 'fenced', 'bob');
        const joinedAt = (await bob.waitForType('welcome')).seq;
        // A newer owner's fence, as a takeover writes it, while a still holds its Redis lease: a
        // takes the next message into its engine, and PostgreSQL refuses the entries.
        const db = await postgres.connect();
        const fenced = await db.query(
          `UPDATE ${schema}.conversations SET epoch = epoch + 1000 WHERE conversation_id = 'fenced'`,
        );
        expect(fenced.rowCount).toBe(1);
        alice.send({ type: 'user_message', content: 'What is 5 + 5?', client_message_id: 'm-5' });
        const refused = await alice.waitForType(
          'error',
          (frame) => frame.in_reply_to === 'user_message',
        );
        expect(refused).toMatchObject({
          code: 'cluster_unavailable',
          details: { client_message_id: 'm-5' },
        });
        // The conversation goes on under a new epoch; the refused message was never logged.
        await answeredAt(alice, bob, 'What is 3 + 3?', '3 + 3 = 6.');
        const echoes = (client: typeof alice) =>
          client.frames.filter(
            (frame) => frame.type === 'user_message' && frame.content === 'What is 5 + 5?',
          );
        expect([...echoes(alice), ...echoes(bob)]).toEqual([]);
        for (const client of [alice, bob]) {
          expect(isGapless(seqsOf(eventsFrom(client.frames, joinedAt + 1)))).toBe(true);
        }
        await Promise.all([alice.close(), bob.close()]);
      },
    );
  });
});
