/**
 * The raw `ws` comparison server: what a user would write without Parley. Same endpoint, same
 * frames, same model; no actors, no pools, no validation beyond `JSON.parse` and a type check.
 *
 * - `BENCH_CORK=1`: each socket is corked for the rest of the tick when its first frame of the
 *   tick is sent, so one model packet's frames leave in one `writev`, as Parley does. This is the
 *   four lines a competent `ws` user adds once a profile shows a system call per frame; the TCP
 *   socket is the one `ws` hands over in `connection` (`request.socket`), a public API.
 * - `BENCH_XSTATE=1`: each connection also gets one small XState actor, to show what an actor
 *   per connection costs on its own.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createActor, createMachine, type AnyActorRef } from 'xstate';
import { ChatRooms, randomId } from './chat-room.js';
import { peerModelFromEnvironment } from './model-from-environment.js';
import { serveControl } from './server-control.js';

interface Member {
  readonly userId: string;
  readonly socket: WebSocket;
  /** The TCP socket under `socket`, for the cork. */
  readonly tcp: Socket;
  corked: boolean;
  actor?: AnyActorRef;
}

/** A minimal connection machine: joined until the socket closes, forwarding messages. */
const connectionMachine = createMachine({
  id: 'connection',
  initial: 'joined',
  states: {
    joined: { on: { 'frame.received': { target: 'joined' }, 'socket.closed': 'closed' } },
    closed: { type: 'final' },
  },
});

const withActors = process.env.BENCH_XSTATE === '1';
const cork = process.env.BENCH_CORK === '1';

function uncork(member: Member): void {
  member.corked = false;
  member.tcp.uncork();
}

/** Sends one frame; corked, the socket's frames of this tick leave together. */
function sendTo(member: Member, data: string): void {
  if (cork && !member.corked) {
    member.corked = true;
    member.tcp.cork();
    process.nextTick(uncork, member);
  }
  member.socket.send(data);
}

const rooms = new ChatRooms<Member>(peerModelFromEnvironment(), (_roomId, members, frame) => {
  const data = JSON.stringify(frame);
  for (const member of members) sendTo(member, data);
});

const httpServer = createServer();
const wss = new WebSocketServer({
  server: httpServer,
  perMessageDeflate: false,
  maxPayload: 65_536,
});
wss.on('connection', (socket, request) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const roomId = decodeURIComponent(url.pathname.replace(/^\/ws\/chat\//, ''));
  const member: Member = {
    userId: url.searchParams.get('user_id') ?? 'anonymous',
    socket,
    tcp: request.socket,
    corked: false,
  };
  if (withActors) member.actor = createActor(connectionMachine).start();
  socket.on('error', () => undefined);
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    let message: unknown;
    try {
      message = JSON.parse((data as Buffer).toString('utf8'));
    } catch {
      socket.close(1007, 'invalid_json');
      return;
    }
    member.actor?.send({ type: 'frame.received' });
    rooms.receive(roomId, member, message);
  });
  socket.on('close', () => {
    member.actor?.send({ type: 'socket.closed' });
    rooms.leave(roomId, member);
  });
  rooms.join(roomId, member, randomId('conn'), (frame) => {
    sendTo(member, JSON.stringify(frame));
  });
});

httpServer.listen(0, '127.0.0.1', () => {
  const { port } = httpServer.address() as AddressInfo;
  serveControl(port, {
    stats: () => ({ connections: wss.clients.size, conversations: rooms.size }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        httpServer.close(() => {
          resolve();
        });
      }),
  });
});
