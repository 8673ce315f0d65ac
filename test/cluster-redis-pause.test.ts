/**
 * Redis paused (CLIENT PAUSE on a private redis-server, so that other suites are not paused) past
 * the lease during a conversation, with input at the owner's instance and at a follower's: every
 * message is either taken (echoed) or refused with `cluster_unavailable`, never dropped without a
 * word, and the conversation goes on without a restart.
 *
 * Which instance takes the conversation back after the pause is a race, and each outcome once
 * hid a defect (both fixed): the old owner taking it back knew nothing of the follower's
 * participant, which kept sending into its inbox unanswered (followers now compare the lease's
 * epoch, not only its holder); and a message sent while the owner's engine reopened the
 * connection was dropped (it now waits in the connection's queue).
 */
import { Redis } from 'ioredis';
import { expect, it, onTestFailed } from 'vitest';
import {
  answeredAt,
  alicePlusBob,
  eventsFrom as from,
  healthUntil,
  isGapless,
  outcomes,
  seqsOf,
} from './support/cluster-processes.js';
import { describeWithPrivateRedis, probeRedisServer } from './support/private-redis.js';
import { describeWithPostgres, probePostgres } from './support/services.js';

const postgresProbe = await probePostgres();
const redisServerProbe = await probeRedisServer();

describeWithPostgres(postgresProbe, 'cluster faults', (postgres) => {
  describeWithPrivateRedis(redisServerProbe, 'with a private Redis', (servers) => {
    it(
      'Redis paused past the lease: input is refused with cluster_unavailable, health says so, then the conversation goes on without a restart',
      { timeout: 60_000 },
      async () => {
        const { url } = await servers.start();
        const { a, b, alice, bob, joinedAt } = await alicePlusBob({
          postgres,
          redisUrl: url,
          conversationId: 'paused-redis',
        });
        let step = 'pausing Redis';
        onTestFailed(() => {
          console.error(
            [
              `redis pause failed at: ${step}`,
              `alice: ${JSON.stringify(alice.frames.slice(-5))}`,
              `bob: ${JSON.stringify(bob.frames.slice(-5))}`,
              `--- a:\n${a.printed().slice(-3_000)}`,
              `--- b:\n${b.printed().slice(-3_000)}`,
            ].join('\n'),
          );
        });

        const admin = new Redis(url);
        try {
          await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
          step = 'waiting for a to report Redis down';
          await healthUntil(a, (health) => !health.redis.ok);
          step = 'waiting for a refusal or the echo at both';
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
        step = 'waiting for both to report Redis up';
        await Promise.all([a, b].map((instance) => healthUntil(instance, (h) => h.redis.ok)));
        step = 'waiting for a to own or follow again';
        // Recovered: someone owns the conversation again and answers.
        await healthUntil(a, (health) => health.owned + health.followed === 1);
        step = 'waiting for the answer to 3 + 3';
        await answeredAt(alice, bob, 'What is 3 + 3?', '3 + 3 = 6.');
        step = 'checking the outcomes';
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
