/**
 * Redis paused (CLIENT PAUSE on a private redis-server) past the lease during a conversation.
 * Not part of `npm test` yet: in about one run of three the conversation did not recover within
 * 60 s after the pause, or a follower's forwarded input was dropped (issue 16, docs/SCALING.md
 * "Known gaps"). Run it with `npm run test:faults`.
 */
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import type { ServerFrame } from '../../src/protocol/frames.js';
import {
  clusterEnvironment,
  clusterHealth,
  isGapless,
  seqsOf,
  startInstance,
  type ClusterInstance,
} from '../support/cluster-processes.js';
import { describeWithPrivateRedis, probeRedisServer } from '../support/private-redis.js';
import { describeWithPostgres, probePostgres } from '../support/services.js';
import { connectClient, eventFrames, type TestClient } from '../support/test-client.js';

const postgresProbe = await probePostgres();
const redisServerProbe = await probeRedisServer();

/** Resolves once `check` holds for the instance's cluster health (polled; bounded by the test). */
async function healthUntil(
  instance: ClusterInstance,
  check: (health: Awaited<ReturnType<typeof clusterHealth>>) => boolean,
): Promise<void> {
  for (;;) {
    const health = await clusterHealth(instance).catch(() => undefined);
    if (health !== undefined && check(health)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Each message content sent: its echo (accepted) or an error answering it (refused):
 * `cluster_unavailable` (Redis, or the owner, unavailable) or `log_unavailable` (PostgreSQL).
 */
function outcomes(client: TestClient, contents: readonly string[]) {
  const echoes = new Set(
    client.frames
      .filter((frame) => frame.type === 'user_message')
      .map((frame) => (frame as { content: string }).content),
  );
  const refusals = client.frames.filter(
    (frame) => frame.type === 'error' && (frame as { code: string }).code === 'cluster_unavailable',
  ).length;
  const accepted = contents.filter((content) => echoes.has(content));
  return { accepted, refused: refusals, lost: contents.length - accepted.length - refusals };
}

function from(frames: readonly ServerFrame[], seq: number) {
  return eventFrames(frames).filter((frame) => frame.seq >= seq);
}

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
          // Input at the owner's instance only: a follower's input forwarded into a paused Redis
          // can land after the ownership changed and be dropped unacknowledged (a known gap of
          // issue 16, docs/SCALING.md "Known gaps"), so it is not asserted here yet.
          alice.send({ type: 'user_message', content: 'What is 1 + 1?' });
          await alice.waitFor(
            (frame) => frame.type === 'error' || frame.type === 'user_message',
            'a refusal or the echo',
          );
        } finally {
          await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
          admin.disconnect();
        }
        await Promise.all([a, b].map((instance) => healthUntil(instance, (h) => h.redis.ok)));
        // Recovered: someone owns the conversation again and answers.
        await healthUntil(a, (health) => health.owned + health.followed === 1);
        alice.send({ type: 'user_message', content: 'What is 3 + 3?' });
        const answer = await bob.waitForType(
          'agent_response_complete',
          (frame) => frame.content === '3 + 3 = 6.',
        );
        await alice.waitFor((frame) => frame.seq === answer.seq);
        expect(outcomes(alice, ['What is 1 + 1?']).lost).toBe(0);
        for (const client of [alice, bob]) {
          expect(isGapless(seqsOf(from(client.frames, joinedAt + 1)))).toBe(true);
        }
        await Promise.all([alice.close(), bob.close()]);
      },
    );
  });
});
