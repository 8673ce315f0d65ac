import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres, probePostgres } from '../../test/support/services.js';
import { ParleyError } from '../errors.js';
import { describeEventStoreContract, frameEntry, partEntry } from './event-store.contract.js';
import { PostgresEventStore, type PostgresEventStoreOptions } from './postgres-store.js';

const postgres = await probePostgres();
/** How the store names the test server in its messages. */
const where = `postgres://${new URL(postgres.url).host}${new URL(postgres.url).pathname}`;

describeWithPostgres(postgres, 'PostgresEventStore', (service) => {
  describeEventStoreContract('PostgresEventStore', ({ retention }) =>
    PostgresEventStore.open(service.url, {
      schema: service.freshSchema(),
      ...(retention === undefined ? {} : { retentionPerConversation: retention }),
    }),
  );

  const stores: PostgresEventStore[] = [];
  const open = async (options: PostgresEventStoreOptions = {}) => {
    const store = await PostgresEventStore.open(service.url, options);
    stores.push(store);
    return store;
  };

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('keeps its entries across close and reopen, and writes one row per entry', async () => {
    const schema = service.freshSchema();
    const first = await open({ schema });
    await first.append([partEntry('a', 1), frameEntry('a', 2, 1), frameEntry('b', 1, 1)]);
    await first.close();

    const second = await open({ schema });
    expect(await second.readEntries('a')).toEqual([partEntry('a', 1), frameEntry('a', 2, 1)]);
    expect(await second.lastPosition('b')).toEqual({ position: 1, seq: 1 });
    const client = await service.connect();
    const { rows } = await client.query(
      `SELECT conversation_id, position, seq, kind, frame_type, to_connection
       FROM ${schema}.entries ORDER BY conversation_id, position`,
    );
    expect(rows).toEqual([
      {
        conversation_id: 'a',
        position: '1',
        seq: null,
        kind: 'model.part',
        frame_type: null,
        to_connection: null,
      },
      {
        conversation_id: 'a',
        position: '2',
        seq: '1',
        kind: 'frame',
        frame_type: 'agent_response_chunk',
        to_connection: null,
      },
      {
        conversation_id: 'b',
        position: '1',
        seq: '1',
        kind: 'frame',
        frame_type: 'agent_response_chunk',
        to_connection: null,
      },
    ]);
  });

  it('refuses a schema with another version', async () => {
    const schema = service.freshSchema();
    await (await open({ schema })).close();
    const client = await service.connect();
    await client.query(`UPDATE ${schema}.meta SET value = '2' WHERE key = 'schema_version'`);

    await expect(open({ schema })).rejects.toThrow(
      new ParleyError(
        'log_unavailable',
        `The event log in schema ${schema} at ${where} has schema version 2; this Parley reads version 1.`,
      ),
    );
  });

  it('refuses a schema that holds tables but no Parley schema version', async () => {
    const schema = service.freshSchema();
    const client = await service.connect();
    await client.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.notes (text text)`);

    await expect(open({ schema })).rejects.toMatchObject({
      code: 'log_unavailable',
      message: expect.stringContaining(
        `Schema ${schema} at ${where} is not a Parley event log`,
      ) as unknown,
    });
  });

  it('creates the schema once when instances start together', async () => {
    const schema = service.freshSchema();
    const opened = await Promise.all([1, 2, 3, 4].map(() => open({ schema })));
    await opened[0]?.append([frameEntry('a', 1, 1)]);

    expect(await opened[3]?.lastPosition('a')).toEqual({ position: 1, seq: 1 });
  });

  it('rejects an unreachable server with log_unavailable, keeping the cause and hiding the password', async () => {
    const error: unknown = await PostgresEventStore.open(
      'postgres://postgres:hunter2-secret@127.0.0.1:1/test',
      { schema: service.freshSchema(), connectionTimeoutMs: 1_000 },
    ).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'log_unavailable' });
    expect((error as ParleyError).message).toMatch(
      /^Cannot open the event log at postgres:\/\/127\.0\.0\.1:1\/test \(schema parley_test_\w+\): connect ECONNREFUSED/,
    );
    expect((error as ParleyError).cause).toBeInstanceOf(Error);
    expect(JSON.stringify(error) + String(error)).not.toContain('hunter2');
  });

  it('refuses schema names that would need quoting', async () => {
    await expect(open({ schema: 'Parley; DROP TABLE x' })).rejects.toThrow(TypeError);
  });
});
