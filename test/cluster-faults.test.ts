/**
 * Cluster mode under real faults: a paused Redis (`CLIENT PAUSE`, on a private redis-server so
 * that other suites are not paused) and a stopped PostgreSQL (`pg_ctlcluster … stop`, restarted
 * in a `finally`, kept to a few seconds because other suites share that server). Two `parley
 * serve` processes each. What is checked: the failure is reported (health, `cluster_unavailable`
 * frames), every message a client sent is either refused with `cluster_unavailable` or answered,
 * nobody sees a gap or a duplicate, and the conversation recovers without a restart.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import {
  alicePlusBob,
  eventsFrom as from,
  healthUntil,
  isGapless,
  outcomes,
  seqsOf,
} from './support/cluster-processes.js';
import { describeWithPrivateRedis, probeRedisServer } from './support/private-redis.js';
import { describeWithPostgres, probePostgres, skipOrFail } from './support/services.js';

const run = promisify(execFile);
const postgresProbe = await probePostgres();
const redisServerProbe = await probeRedisServer();
const PG_CTL = ['--skip-systemctl-redirect', '15', 'main'];
const canStopPostgres = await run('pg_ctlcluster', [...PG_CTL, 'status']).then(
  () => true,
  () => false,
);

if (!canStopPostgres) {
  skipOrFail(
    'pg_ctlcluster cannot manage PostgreSQL 15 main here',
    'cluster with PostgreSQL stopped',
  );
} else {
  describeWithPostgres(postgresProbe, 'cluster with PostgreSQL stopped', (postgres) => {
    describeWithPrivateRedis(redisServerProbe, 'and a private Redis', (servers) => {
      it(
        'holds the frames of a stopped PostgreSQL until it is back, refuses new input meanwhile, and loses nothing',
        { timeout: 60_000 },
        async () => {
          const { url } = await servers.start();
          const { a, alice, bob, joinedAt } = await alicePlusBob({
            postgres,
            redisUrl: url,
            conversationId: 'stopped-pg',
          });

          try {
            await run('pg_ctlcluster', [...PG_CTL, 'stop', '--', '-m', 'fast']);
            // The owner (alice's instance) finds out at its next write.
            alice.send({ type: 'user_message', content: 'What is 1 + 1?' });
            await healthUntil(a, (health) => !health.postgres.ok);
            alice.send({ type: 'user_message', content: 'What is 5 + 5?' });
            const refused = await alice.waitForType(
              'error',
              (frame) => frame.in_reply_to === 'user_message',
            );
            expect(['cluster_unavailable', 'log_unavailable']).toContain(refused.code);
            // Nothing of the first message was sent: it is not in the log yet.
            expect(alice.frames.some((frame) => frame.type === 'user_message')).toBe(false);
          } finally {
            await run('pg_ctlcluster', [...PG_CTL, 'start']);
          }
          // Back: the held message goes out and is answered, the log has it, input is taken again.
          await bob.waitForType(
            'agent_response_complete',
            (frame) => frame.content === '1 + 1 = 2.',
          );
          await healthUntil(a, (health) => health.postgres.ok);
          alice.send({ type: 'user_message', content: 'What is 3 + 3?' });
          const answer = await bob.waitForType(
            'agent_response_complete',
            (frame) => frame.content === '3 + 3 = 6.',
          );
          await alice.waitFor((frame) => frame.seq === answer.seq);
          expect(outcomes(alice, ['What is 1 + 1?', 'What is 5 + 5?'])).toMatchObject({
            lost: 0,
            refused: 1,
          });
          for (const client of [alice, bob]) {
            expect(isGapless(seqsOf(from(client.frames, joinedAt + 1)))).toBe(true);
          }
          await Promise.all([alice.close(), bob.close()]);
        },
      );
    });
  });
}
