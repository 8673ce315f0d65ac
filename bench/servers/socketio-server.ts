/**
 * The Socket.IO comparison server: rooms and `emit`, configured as Socket.IO's own documentation
 * advises for throughput and memory (https://socket.io/docs/v4/performance-tuning and the server
 * options page):
 *
 * - the WebSocket transport only, on both sides (no long-polling upgrade dance);
 * - no per-message deflate and no HTTP compression;
 * - the client bundle not served;
 * - "discard the initial HTTP request" (`rawSocket.request = null`): the documented memory tip.
 *   The conversation and user therefore come in the handshake's `auth`, not in the query;
 * - the documented `ws` add-ons change nothing here: `bufferutil` only unmasks inbound frames of
 *   32 bytes or more (a client's `user_message`, a few per turn), and `ws` 8 validates UTF-8 with
 *   Node's `buffer.isUtf8` instead of `utf-8-validate` on Node 20;
 * - the documented `eiows` engine is not available here: eiows 11 needs Node ≥ 22 and compiles with
 *   node-gyp (bench/README.md says so). A custom parser (msgpack) only helps binary payloads.
 *
 * Socket.IO encodes each broadcast once for the whole room and writes the pre-encoded WebSocket
 * frame to every member. With `BENCH_CORK=1` each member's TCP socket is also corked for the rest
 * of the tick, like the corked raw `ws` server; Socket.IO has no public way to do this, so it
 * reaches through engine.io's transport to the socket (`conn.transport.socket._socket`): a
 * measure of what batching would give it, not what its documentation offers.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket as TcpSocket } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { ChatRooms } from './chat-room.js';
import { peerModelFromEnvironment } from './model-from-environment.js';
import { serveControl } from './server-control.js';

interface Member {
  readonly userId: string;
  readonly socket: Socket;
  readonly tcp: TcpSocket | undefined;
  corked: boolean;
}

const cork = process.env.BENCH_CORK === '1';
/** Connections the cork could not reach (engine.io's internals changed): shown in `stats`. */
let uncorkable = 0;
const httpServer = createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 65_536,
});
io.engine.on('connection', (rawSocket: { request: unknown }) => {
  rawSocket.request = null;
});

function uncork(member: Member): void {
  member.corked = false;
  member.tcp?.uncork();
}

function corkForTick(member: Member): void {
  if (!cork || member.corked || member.tcp === undefined) return;
  member.corked = true;
  member.tcp.cork();
  process.nextTick(uncork, member);
}

const rooms = new ChatRooms<Member>(peerModelFromEnvironment(), (roomId, roomMembers, frame) => {
  for (const member of roomMembers) corkForTick(member);
  io.to(roomId).emit('frame', frame);
});

/** engine.io's WebSocket transport keeps the `ws` socket, which keeps the TCP socket. */
function tcpSocketOf(socket: Socket): TcpSocket | undefined {
  const transport = socket.conn.transport as unknown as { socket?: { _socket?: TcpSocket } };
  return transport.socket?._socket;
}

io.on('connection', (socket) => {
  const { conversation, user_id: userId } = socket.handshake.auth as Record<string, unknown>;
  const roomId = typeof conversation === 'string' ? conversation : 'default';
  const member: Member = {
    userId: typeof userId === 'string' ? userId : 'anonymous',
    socket,
    tcp: cork ? tcpSocketOf(socket) : undefined,
    corked: false,
  };
  if (cork && member.tcp === undefined) uncorkable += 1;
  void socket.join(roomId);
  // Socket.IO has already parsed the packet's JSON; the payload arrives as an object.
  socket.on('user_message', (message: unknown) => {
    rooms.receive(roomId, member, message);
  });
  socket.on('disconnect', () => {
    rooms.leave(roomId, member);
  });
  rooms.join(roomId, member, socket.id, (frame) => {
    corkForTick(member);
    socket.emit('frame', frame);
  });
});

httpServer.listen(0, '127.0.0.1', () => {
  const { port } = httpServer.address() as AddressInfo;
  serveControl(port, {
    stats: () => ({ connections: io.engine.clientsCount, conversations: rooms.size, uncorkable }),
    close: () =>
      new Promise<void>((resolve) => {
        void io.close(() => {
          resolve();
        });
      }),
  });
});
