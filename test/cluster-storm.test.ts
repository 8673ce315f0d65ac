/**
 * Cluster mode under repeated failure: kill -9 of the owner at random points of an answer, twenty
 * times (issue 16), with three `parley serve` processes on the test PostgreSQL and Redis and a
 * new one started after each kill. The speaker resends when its message is refused with
 * `cluster_unavailable` (it was forwarded to the owner that died). bench/cluster-failover.ts
 * measures the failover time over the same twenty kills.
 */
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  describeCluster,
  probeCluster,
  clusterHealth,
  type ClusterInstance,
  defined,
  isGapless,
  kill9,
  sendUntilTaken,
  seqsOf,
  startInstance,
} from './support/cluster-processes.js';
import { connectClient, type TestClient } from './support/test-client.js';

/** kill -9s of the owner in one test run. */
const KILLS = 20;
const probes = await probeCluster();

describe('cluster mode under kill -9', () => {
  describeCluster(probes, ({ environment }) => {
    it(
      `survives ${KILLS} kill -9 of the owner at random points: 0 gaps and 0 duplicates for every participant, resumed or not`,
      { timeout: 300_000 },
      async () => {
        const env = environment();
        /** Where the test is, and what each side printed: the report if it fails. */
        let step = 'starting three instances';
        const started: ClusterInstance[] = [];
        onTestFailed(() => {
          const lines = [`cluster storm failed at: ${step}`];
          for (const participant of participants)
            for (const [index, client] of participant.clients.entries())
              lines.push(
                `${participant.user}#${String(index)} ${client.socket.url} state ${String(client.socket.readyState)}: ` +
                  JSON.stringify(client.frames.slice(-4)),
              );
          for (const instance of started)
            lines.push(
              `--- ${instance.id} (exit ${String(instance.child.exitCode)}):\n${instance.printed().slice(-3_000)}`,
            );
          console.error(lines.join('\n'));
        });
        let generation = 0;
        const start = async () => {
          const instance = await startInstance(env, `i${String(generation++)}`);
          started.push(instance);
          return instance;
        };
        const instances = await Promise.all([start(), start(), start()]);
        /** Each participant's sockets over time; its frames are all of theirs, in order. */
        const participants: { user: string; clients: TestClient[] }[] = [];
        participants.push(
          ...(await Promise.all(
            ['alice', 'bob', 'carol'].map(async (user, index) => ({
              user,
              clients: [await connectClient(instances[index]?.url ?? '', 'storm', user)],
            })),
          )),
        );
        const joinedAt = (
          await defined(participants[2]?.clients[0], 'carol').waitForType('welcome')
        ).seq;
        const seqs = (participant: (typeof participants)[number]) =>
          participant.clients
            .flatMap((client) => seqsOf(client.frames))
            .filter((seq) => seq > joinedAt);
        for (let kill = 0; kill < KILLS; kill += 1) {
          const speaker = defined(participants[kill % 3], 'speaker');
          const client = defined(speaker.clients.at(-1), 'client');
          const sent = client.frames.length;
          const stopResending = sendUntilTaken(client, {
            type: 'user_message',
            content: 'what can you do?',
            client_message_id: `m-${String(kill)}`,
          });
          const cut = 1 + Math.floor(Math.random() * 8);
          step = `kill ${String(kill)}: ${speaker.user} waits for chunk ${String(cut)}`;
          await client.waitFor(
            (frame) =>
              client.frames.indexOf(frame) >= sent &&
              frame.type === 'agent_response_chunk' &&
              frame.index === cut,
            `chunk ${cut}`,
          );
          const health = await Promise.all(instances.map((instance) => clusterHealth(instance)));
          const ownerIndex = health.findIndex((item) => item.owned === 1);
          const owner = defined(instances[ownerIndex], 'owner');
          stopResending();
          step = `kill ${String(kill)}: kill -9 of ${owner.id}`;
          await kill9(owner);
          const replacement = start();
          // Clients of the dead instance resume on a survivor from their last seq.
          const survivors = instances.filter((instance) => instance !== owner);
          for (const participant of participants) {
            const last = defined(participant.clients.at(-1), 'client');
            if (!last.socket.url.startsWith(owner.url.replace('http', 'ws'))) continue;
            step = `kill ${String(kill)}: ${participant.user} resumes`;
            await last.closed;
            const since = seqsOf(participant.clients.flatMap((each) => each.frames)).at(-1) ?? 0;
            const target = defined(
              survivors[Math.floor(Math.random() * survivors.length)],
              'survivor',
            );
            participant.clients.push(
              await connectClient(target.url, 'storm', participant.user, {
                query: `user_id=${participant.user}&since=${String(since)}`,
              }),
            );
          }
          step = `kill ${String(kill)}: every participant waits for the interrupted turn's end`;
          const turn = (await client.waitFor(
            (frame) =>
              frame.type === 'agent_response_chunk' && client.frames.indexOf(frame) >= sent,
          )) as { turn_id: string };
          await Promise.all(
            participants.map((participant) =>
              defined(participant.clients.at(-1), 'client').waitForType(
                'agent_response_complete',
                (frame) => frame.turn_id === turn.turn_id,
              ),
            ),
          );
          step = `kill ${String(kill)}: the replacement instance starts`;
          instances[ownerIndex] = await replacement;
        }
        // The next message is answered, and every participant saw every seq once.
        step = 'the last message is answered';
        const last = defined(participants[0]?.clients.at(-1), 'alice');
        last.send({ type: 'user_message', content: 'What is 2 + 2?' });
        const answer = await last.waitForType(
          'agent_response_complete',
          (frame) => frame.content === '2 + 2 = 4.',
        );
        await Promise.all(
          participants.map((participant) =>
            defined(participant.clients.at(-1), 'client').waitFor(
              (frame) => frame.seq === answer.seq,
            ),
          ),
        );
        for (const participant of participants) {
          const seen = seqs(participant);
          expect(isGapless(seen), `${participant.user}: ${seen.join(',')}`).toBe(true);
          expect(seen.at(-1)).toBe(answer.seq);
        }
        for (const participant of participants)
          await defined(participant.clients.at(-1), 'client').close();
      },
    );
  });
});
