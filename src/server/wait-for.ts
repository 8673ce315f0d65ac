/** Waiting helpers of shutdown: a promise bounded in time, and every socket of a server closed. */
import type { WebSocketServer } from 'ws';

/** Resolves after `promise`, or after `ms` at the latest. */
export function waitFor(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Resolves once every client of `wss` has closed. */
export function allClosed(wss: WebSocketServer): Promise<void> {
  const pending = [...wss.clients].map(
    (client) =>
      new Promise<void>((resolve) => {
        client.once('close', () => {
          resolve();
        });
      }),
  );
  return Promise.all(pending).then(() => undefined);
}
