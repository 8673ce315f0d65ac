/**
 * Who may use the inspector, and where it listens. Kept apart from the endpoint so that the
 * server and the HTTP routes can check access without loading the inspector itself (its
 * timeline builder, replay and protocol schemas), which a server with the inspector off never
 * needs.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ParleyConfig } from '../config.js';
import { ParleyError } from '../errors.js';

/** The inspector's WebSocket path. */
export const INSPECTOR_PATH = '/ws/inspect';

/**
 * Checks whether a request may use the inspector: it must be on, and when an admin token is
 * configured the request must carry it (`?token=` or `Authorization: Bearer`).
 *
 * @throws {ParleyError} `not_found` when the inspector is off, `unauthorized` when the admin
 * token is missing or wrong.
 *
 * @example
 * authorizeInspector(config, request, new URL(request.url ?? '/', 'http://localhost'));
 */
export function authorizeInspector(config: ParleyConfig, request: IncomingMessage, url: URL): void {
  if (!config.inspector) {
    throw new ParleyError('not_found', 'The inspector is off (set PARLEY_INSPECTOR=1).');
  }
  const expected = config.inspectorToken;
  if (expected === undefined) return;
  const header = request.headers.authorization;
  const given =
    (header?.toLowerCase().startsWith('bearer ') === true ? header.slice(7).trim() : undefined) ??
    url.searchParams.get('token') ??
    '';
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new ParleyError(
      'unauthorized',
      'The inspector needs the admin token (PARLEY_INSPECTOR_TOKEN).',
    );
  }
}
