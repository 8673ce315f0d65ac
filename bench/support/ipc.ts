/**
 * The child side of the control channel between a benchmark and its server and client processes
 * (Node's IPC channel, never the network under test). The parent sends `{ id, type, ... }`
 * requests; the child answers each with `{ type: 'reply', id, ok, result | error }`.
 */

/** A request from the benchmark to a child process. */
export interface ControlRequest {
  id: number;
  type: string;
  [key: string]: unknown;
}

/** What a child answers to one {@link ControlRequest}. */
export type ControlReply =
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

/**
 * Answers the parent's requests with `handler`; a thrown error or rejection becomes an `ok: false`
 * reply. The process exits when the parent goes away, so an aborted benchmark leaves no orphans.
 *
 * @example
 * serveRequests(async (request) => (request.type === 'ping' ? 'pong' : undefined));
 */
export function serveRequests(handler: (request: ControlRequest) => unknown): void {
  process.on('message', (message: ControlRequest) => {
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (result: unknown) => {
          send({ type: 'reply', id: message.id, ok: true, result: result ?? null });
        },
        (error: unknown) => {
          const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
          send({ type: 'reply', id: message.id, ok: false, error: text });
        },
      );
  });
  process.on('disconnect', () => {
    process.exit(0);
  });
}

/** Sends one message to the parent (ignored when there is none, e.g. a child run by hand). */
export function send(message: object): void {
  if (process.send !== undefined && process.connected) process.send(message);
}

/** Reads a numeric environment variable, or `fallback` when it is unset. */
export function numberFromEnvironment(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${raw}`);
  return value;
}
