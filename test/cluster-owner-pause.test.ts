/**
 * An owner stopped (SIGSTOP) past its lease, another instance takes over, then SIGCONT: the woken
 * owner writes nothing more, and its participants follow the new owner. A message a follower
 * forwarded to the stopped owner is refused with `cluster_unavailable` when the conversation
 * moves, and sent again (the store-level fencing is tested in test/cluster-fencing.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
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
  });
});
