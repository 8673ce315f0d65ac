import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ParleyError } from '../errors.js';

/**
 * Answers a WebSocket upgrade request with a plain HTTP error (JSON body with `code` and
 * `message`) and destroys the socket, so a refused client never gets an open WebSocket.
 *
 * @example
 * refuseUpgrade(socket, new ParleyError('unauthorized', 'token expired'));
 */
export function refuseUpgrade(socket: Duplex, error: ParleyError): void {
  if (socket.destroyed) return;
  const status = error.httpStatus;
  const body = JSON.stringify({ code: error.code, message: error.message });
  // Destroy only after the response is flushed, as ws does in its own abortHandshake.
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
