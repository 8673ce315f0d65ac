import { WebSocket } from 'ws';
import type { InspectorMessage } from '../../src/inspector/inspector-protocol.js';

/** A test client of `/ws/inspect` that records messages and awaits the one it expects. */
export async function connectInspector(baseUrl: string, query = '') {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/inspect${query}`);
  const messages: InspectorMessage[] = [];
  const waiters: {
    predicate: (message: InspectorMessage) => boolean;
    resolve: (m: InspectorMessage) => void;
  }[] = [];
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString('utf8')) as InspectorMessage;
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => {
      resolve();
    });
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`inspector refused with ${String(response.statusCode)}`));
    });
  });
  const waitFor = <T extends InspectorMessage>(
    predicate: (message: InspectorMessage) => boolean,
  ) => {
    const found = messages.find(predicate);
    if (found !== undefined) return Promise.resolve(found as T);
    return new Promise<T>((resolve) => {
      waiters.push({ predicate, resolve: resolve as (message: InspectorMessage) => void });
    });
  };
  return {
    socket,
    messages,
    request: (request: Record<string, unknown>) => {
      socket.send(JSON.stringify(request));
    },
    waitFor,
    close: () => {
      socket.close();
    },
  };
}
