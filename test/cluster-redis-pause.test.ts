/**
 * Redis paused (CLIENT PAUSE on a private redis-server, so that other suites are not paused) past
 * the lease during a conversation, with input at the owner's instance and at a follower's: every
 * message is either taken (echoed) or refused with `cluster_unavailable`, never dropped without a
 * word, and the conversation goes on without a restart.
 */
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import {
  clusterEnvironment,
  eventsFrom as from,
  healthUntil,
  isGapless,
  outcomes,
  sendUntilTaken,
  seqsOf,
  startInstance,
} from './support/cluster-processes.js';
import { describeWithPrivateRedis, probeRedisServer } from './support/private-redis.js';
import { describeWithPostgres, probePostgres } from './support/services.js';
import { connectClient } from './support/test-client.js';

const postgresProbe = await probePostgres();
const redisServerProbe = await probeRedisServer();

describeWithPostgres(postgresProbe, 'cluster faults', (postgres) => {
  describeWithPrivateRedis(redisServerProbe, 'with a private Redis', (servers) => {
    it(
      'Redis paused past the lease: input is refused with cluster_unavailable, health says so, then the conversation goes on without a restart',
      { timeout: 60_000 },
      async () => {
        const { url } = await servers.start();
        const env = clusterEnvironment({
          postgresUrl: postgres.url,
          schema: postgres.freshSchema(),
          redisUrl: url,
          prefix: 'parley:',
        });
        const [a, b] = await Promise.all([startInstance(env, 'a'), startInstance(env, 'b')]);
        const alice = await connectClient(a.url, 'paused-redis', 'alice');
        const bob = await connectClient(b.url, 'paused-redis', 'bob');
        const joinedAt = (await bob.waitForType('welcome')).seq;

        const admin = new Redis(url);
        try {
          await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
          await healthUntil(a, (health) => !health.redis.ok);
          // Input at both instances: the owner's, and a follower's forwarded into the paused Redis
          // (taken by the owner, or refused when the conversation moved before it was confirmed).
          alice.send({ type: 'user_message', content: 'What is 1 + 1?' });
          bob.send({ type: 'user_message', content: 'What is 4 + 4?' });
          await Promise.all(
            [alice, bob].map((client) =>
              client.waitFor(
                (frame) => frame.type === 'error' || frame.type === 'user_message',
                'a refusal or the echo',
              ),
            ),
          );
        } finally {
          await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
          admin.disconnect();
        }
        await Promise.all([a, b].map((instance) => healthUntil(instance, (h) => h.redis.ok)));
        // Recovered: someone owns the conversation again and answers.
        await healthUntil(a, (health) => health.owned + health.followed === 1);
        const stop = sendUntilTaken(alice, { type: 'user_message', content: 'What is 3 + 3?' });
        const answer = await bob.waitForType(
          'agent_response_complete',
          (frame) => frame.content === '3 + 3 = 6.',
        );
        stop();
        await alice.waitFor((frame) => frame.seq === answer.seq);
        // Each message sent during the pause was answered or refused, on both instances.
        expect(outcomes(alice, ['What is 1 + 1?']).lost).toBe(0);
        await bob.waitFor(
          (frame) =>
            (frame.type === 'user_message' && frame.content === 'What is 4 + 4?') ||
            (frame.type === 'error' && frame.code === 'cluster_unavailable'),
          "the follower's message taken or refused",
        );
        for (const client of [alice, bob]) {
          expect(isGapless(seqsOf(from(client.frames, joinedAt + 1)))).toBe(true);
        }
        await Promise.all([alice.close(), bob.close()]);
      },
    );
  });
});
