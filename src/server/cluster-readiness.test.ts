import { describe, expect, it } from 'vitest';
import { clusterReadiness, type ClusterHealthSource } from './cluster-readiness.js';

type Health = ReturnType<ClusterHealthSource['status']>;

/** A plain object standing in for a cluster node; the test sets its view of the services. */
function nodeReporting(health: Health): ClusterHealthSource & { health: Health } {
  const node = { health, status: () => node.health };
  return node;
}

const UP = { ok: true } as const;

describe('clusterReadiness', () => {
  it('is named cluster and passes while Redis and PostgreSQL both answer', async () => {
    const check = clusterReadiness(nodeReporting({ redis: UP, postgres: UP }));
    expect(check.name).toBe('cluster');
    expect(await check.check()).toEqual({ ok: true });
  });

  it('fails naming Redis and its error when only Redis is down', async () => {
    const node = nodeReporting({
      redis: { ok: false, error: 'connect ECONNREFUSED 127.0.0.1:6379' },
      postgres: UP,
    });
    expect(await clusterReadiness(node).check()).toEqual({
      ok: false,
      reason: 'Redis: connect ECONNREFUSED 127.0.0.1:6379',
    });
  });

  it('fails naming PostgreSQL, as unreachable when it has no error text', async () => {
    const node = nodeReporting({ redis: UP, postgres: { ok: false } });
    expect(await clusterReadiness(node).check()).toEqual({
      ok: false,
      reason: 'PostgreSQL: unreachable',
    });
  });

  it('names both, Redis first, when both are down', async () => {
    const node = nodeReporting({
      redis: { ok: false, error: 'Connection is closed.' },
      postgres: { ok: false, error: 'terminating connection due to administrator command' },
    });
    expect(await clusterReadiness(node).check()).toEqual({
      ok: false,
      reason:
        'Redis: Connection is closed.; PostgreSQL: terminating connection due to administrator command',
    });
  });

  it('reads the node at each check, so it passes again once the service is back', async () => {
    const node = nodeReporting({ redis: UP, postgres: UP });
    const check = clusterReadiness(node);
    expect(await check.check()).toEqual({ ok: true });
    node.health = { redis: { ok: false, error: 'Connection is closed.' }, postgres: UP };
    expect(await check.check()).toMatchObject({ ok: false });
    node.health = { redis: UP, postgres: UP };
    expect(await check.check()).toEqual({ ok: true });
  });
});
