/**
 * A TCP proxy on 127.0.0.1 in front of a server, that a test can cut: a browser loses its
 * connection as it would on a network failure (no close frame), and its reconnection waits at
 * the proxy until the test lets it through, so the test decides what happens in between.
 */
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: the server, reached through the proxy. */
  readonly url: string;
  /** Drops every connection at once; new ones wait until {@link TcpProxy.restore}. */
  cut(): void;
  /** Lets the waiting connections and any new one through to the server again. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * Starts a proxy to `127.0.0.1:<targetPort>` on a free port.
 *
 * @example
 * const proxy = await startTcpProxy(server.port);
 * await page.goto(`${proxy.url}/?conversation=demo&user=bob`);
 * proxy.cut(); // the page reconnects through proxy.restore()
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let waiting: Socket[] | undefined;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A cut connection errors on both sides; the test is about what the page does then.
    socket.on('error', () => undefined);
  };
  // A socket not yet piped keeps what it receives (it starts paused), so a waiting
  // connection's upgrade request reaches the server once it is let through.
  const through = (client: Socket): void => {
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  };

  const server = createServer((client) => {
    track(client);
    if (waiting === undefined) through(client);
    else waiting.push(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${String(port)}`,
    cut() {
      waiting = [];
      for (const socket of [...sockets]) socket.destroy();
    },
    restore() {
      const held = waiting ?? [];
      waiting = undefined;
      for (const client of held) if (!client.destroyed) through(client);
    },
    async close() {
      for (const socket of [...sockets]) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
