/**
 * The tables of the PostgreSQL event log, its append function and the version check, apart from
 * the store that uses them. Everything lives in one schema (`parley` by default), so that a
 * database shared with other applications keeps Parley's tables apart and tests can use a fresh
 * schema each.
 */
import type pg from 'pg';
import { ParleyError } from '../errors.js';
import { entryJson } from './entry-json.js';
import type { LogEntry } from './log-entry.js';

/** The version of the schema's tables; a schema with another version is refused. */
export const POSTGRES_SCHEMA_VERSION = 1;

/** A schema name Parley accepts: a plain lower-case identifier, so it never needs quoting rules. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws a `TypeError` unless `schema` is a plain lower-case PostgreSQL identifier. */
export function checkSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError(
      `schema must be a lower-case PostgreSQL identifier (a-z, 0-9, _; at most 63 characters, not starting with a digit), got ${JSON.stringify(schema)}.`,
    );
  }
}

/**
 * The tables and the append function. `entries` mirrors the SQLite table (one row per entry, the
 * entry's JSON in `body`); `conversations` holds each conversation's fencing epoch.
 */
function tables(schema: string): string {
  return `
    CREATE TABLE ${schema}.entries (
      conversation_id text NOT NULL,
      position bigint NOT NULL,
      seq bigint NULL,
      kind text NOT NULL,
      frame_type text NULL,
      to_connection text NULL,
      at bigint NOT NULL,
      body text NOT NULL,
      PRIMARY KEY (conversation_id, position)
    );
    CREATE INDEX entries_frames ON ${schema}.entries (conversation_id, seq, position)
      WHERE kind = 'frame';
    CREATE TABLE ${schema}.conversations (
      conversation_id text PRIMARY KEY,
      epoch bigint NOT NULL
    );
    ${appendFunction(schema)}
  `;
}

/**
 * One function call per batch: one round trip and one implicit transaction that checks the fences,
 * inserts every row from arrays and trims retention. It returns the conversations whose fence is
 * stale; when there is any, it writes nothing.
 */
function appendFunction(schema: string): string {
  return `
    CREATE FUNCTION ${schema}.append_entries(
      conversation_ids text[], positions bigint[], seqs bigint[], kinds text[],
      frame_types text[], to_connections text[], ats bigint[], bodies text[],
      fenced_ids text[], fenced_epochs bigint[], retention bigint
    ) RETURNS text[] LANGUAGE plpgsql AS $$
    DECLARE
      stale text[];
      conversation text;
    BEGIN
      IF cardinality(fenced_ids) > 0 THEN
        -- The share locks make a concurrent fence() (an UPDATE of these rows) wait until this
        -- append commits or aborts; the next statement then reads epochs that cannot change
        -- before commit. So no append with an older epoch commits after a newer fence has.
        PERFORM 1 FROM ${schema}.conversations
          WHERE conversation_id = ANY (fenced_ids) ORDER BY conversation_id FOR SHARE;
        SELECT coalesce(array_agg(fence.id ORDER BY fence.id), '{}') INTO stale
          FROM unnest(fenced_ids, fenced_epochs) AS fence (id, epoch)
          LEFT JOIN ${schema}.conversations AS stored ON stored.conversation_id = fence.id
          WHERE stored.epoch IS DISTINCT FROM fence.epoch;
        IF cardinality(stale) > 0 THEN
          RETURN stale;
        END IF;
      END IF;
      INSERT INTO ${schema}.entries
        (conversation_id, position, seq, kind, frame_type, to_connection, at, body)
        SELECT * FROM unnest(conversation_ids, positions, seqs, kinds, frame_types,
                             to_connections, ats, bodies);
      IF retention IS NOT NULL THEN
        FOR conversation IN SELECT DISTINCT unnest(conversation_ids) LOOP
          -- As in SQLite: keep the newest \`retention\` entries and always the newest frame, so
          -- that lastPosition still knows the seq to continue from.
          DELETE FROM ${schema}.entries
            WHERE conversation_id = conversation
              AND position <= (SELECT max(position) FROM ${schema}.entries
                               WHERE conversation_id = conversation) - retention
              AND position IS DISTINCT FROM (
                SELECT position FROM ${schema}.entries
                WHERE conversation_id = conversation AND kind = 'frame'
                ORDER BY seq DESC, position DESC LIMIT 1);
        END LOOP;
      END IF;
      RETURN '{}';
    END
    $$;
  `;
}

/**
 * Creates the schema's tables when it has none, or checks the version of existing ones. Runs in
 * one transaction under an advisory lock, so that instances starting together create it once.
 */
export async function migrate(client: pg.ClientBase, schema: string, where: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`parley.migrate.${schema}`]);
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`,
      [schema],
    );
    const names = rows.map((row) => row.table_name);
    if (!names.includes('meta')) {
      if (names.length > 0) {
        throw new ParleyError(
          'log_unavailable',
          `Schema ${schema} at ${where} is not a Parley event log: it has tables but no schema version.`,
        );
      }
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(tables(schema));
      await client.query(`CREATE TABLE ${schema}.meta (key text PRIMARY KEY, value text NOT NULL)`);
      await client.query(`INSERT INTO ${schema}.meta (key, value) VALUES ('schema_version', $1)`, [
        String(POSTGRES_SCHEMA_VERSION),
      ]);
    } else {
      const version = await client.query<{ value: string }>(
        `SELECT value FROM ${schema}.meta WHERE key = 'schema_version'`,
      );
      const found = version.rows[0]?.value;
      if (found !== String(POSTGRES_SCHEMA_VERSION)) {
        throw new ParleyError(
          'log_unavailable',
          `The event log in schema ${schema} at ${where} has schema version ${found ?? '(none)'}; this Parley reads version ${POSTGRES_SCHEMA_VERSION}.`,
        );
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

type Column = (string | number | null)[];

/**
 * The first eight arguments of `append_entries`, one array per column, and the conversations of
 * the batch. The columns are what the SQLite store derives from an entry too: only frame entries
 * have a seq, a frame type and a target; every other kind is stored by its JSON alone.
 */
export function appendColumns(entries: readonly LogEntry[]): {
  columns: Column[];
  conversations: Set<string>;
} {
  const ids: Column = [];
  const positions: Column = [];
  const seqs: Column = [];
  const kinds: Column = [];
  const frameTypes: Column = [];
  const toConnections: Column = [];
  const ats: Column = [];
  const bodies: Column = [];
  const conversations = new Set<string>();
  for (const entry of entries) {
    const frame = entry.kind === 'frame';
    ids.push(entry.conversation_id);
    positions.push(entry.position);
    seqs.push(frame ? entry.seq : null);
    kinds.push(entry.kind);
    frameTypes.push(frame ? entry.frame.type : null);
    toConnections.push(frame ? (entry.to ?? null) : null);
    ats.push(entry.at);
    bodies.push(entryJson(entry));
    conversations.add(entry.conversation_id);
  }
  return {
    columns: [ids, positions, seqs, kinds, frameTypes, toConnections, ats, bodies],
    conversations,
  };
}
