import { afterEach, expect, it } from 'vitest';
import { parseScrape } from '../../test/support/metrics.js';
import { describeWithPostgres, probePostgres } from '../../test/support/services.js';
import { createEventLog } from '../event-log/event-log.js';
import { PostgresEventStore } from '../event-log/postgres-store.js';
import { ParleyMetrics } from './parley-metrics.js';

const postgres = await probePostgres();

describeWithPostgres(postgres, 'event log metrics on PostgreSQL', (service) => {
  const stores: PostgresEventStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('counts a batch PostgreSQL refuses after a takeover as a fencing rejection', async () => {
    const schema = service.freshSchema();
    const first = await PostgresEventStore.open(service.url, { schema });
    const second = await PostgresEventStore.open(service.url, { schema });
    stores.push(first, second);
    const metrics = new ParleyMetrics();
    const errors: unknown[] = [];
    const log = createEventLog({
      store: first,
      retryDelaysMs: [10],
      onError: (error) => errors.push(error),
      onBatch: (entries, seconds, error) => {
        metrics.logBatch(entries, seconds, error);
      },
    });
    await first.fence('a', 1);
    await log.open('a');
    await log.open('b');
    log.append('a', [
      {
        kind: 'input',
        conversation_id: 'a',
        at: 1,
        after_seq: 0,
        input: { type: 'participant.leave', connectionId: 'c' },
      },
    ]);
    await log.flush();

    // Another instance takes `a` over: this instance's next batch with `a` in it is refused.
    await second.fence('a', 2);
    log.append('a', [
      {
        kind: 'input',
        conversation_id: 'a',
        at: 2,
        after_seq: 0,
        input: { type: 'participant.leave', connectionId: 'c' },
      },
    ]);
    await log.flush();
    expect(errors).toMatchObject([{ code: 'cluster_fenced' }]);
    let scraped = parseScrape(await metrics.registry.metrics());
    expect(scraped.value('parley_cluster_fencing_rejections_total')).toBe(1);
    expect(scraped.value('parley_event_log_failures_total', { code: 'cluster_fenced' })).toBe(1);

    // The log drops the fenced conversation's entries; the others go on being written.
    log.append('b', [
      {
        kind: 'input',
        conversation_id: 'b',
        at: 3,
        after_seq: 0,
        input: { type: 'participant.leave', connectionId: 'c' },
      },
    ]);
    await log.flush();
    scraped = parseScrape(await metrics.registry.metrics());
    expect(await second.lastPosition('b')).toMatchObject({ position: 1 });
    expect(scraped.histogram('parley_event_log_batch_entries')).toEqual({ count: 2, sum: 2 });
    expect(scraped.histogram('parley_event_log_append_seconds').count).toBe(2);
  });
});
