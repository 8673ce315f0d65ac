/**
 * One Socket.IO instance of a three-instance cluster for bench/cluster-fan-out.ts: the chat rooms
 * of the other comparison servers (`chat-room.ts`: Parley-shaped frames, one turn at a time per
 * room, the model `BENCH_MODEL` names, the same one Parley streams from), with fan-out between
 * instances through `@socket.io/redis-adapter` on the same Redis Parley uses. A room's turns run
 * on the instance that received the question; every frame is one `io.to(room).emit`, which the
 * adapter publishes once on Redis for the other instances and writes to its own members.
 *
 * Settings as Socket.IO's performance-tuning page advises (see socketio-server.ts): WebSocket
 * only, no deflate, no HTTP compression, no client bundle, the initial HTTP request discarded.
 * The adapter's publishing connection keeps ioredis's defaults: its throughput option
 * `enableAutoPipelining` (`BENCH_AUTO_PIPELINING=1`) gave no more frames/s here and 2-3 × the
 * latency (p50 1.1-1.3 s against 0.4-0.5 s in interleaved runs on 2026-12-03).
 * Announces `ready` on the control channel and shuts down on request.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { ChatRooms } from './chat-room.js';
import { peerModelFromEnvironment } from './model-from-environment.js';
import { serveControl } from './server-control.js';

const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.BENCH_REDIS_PREFIX ?? 'socket.io';
const pub = new Redis(redisUrl, {
  enableAutoPipelining: process.env.BENCH_AUTO_PIPELINING === '1',
});
const sub = new Redis(redisUrl);
const httpServer = createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  maxHttpBufferSize: 65_536,
  adapter: createAdapter(pub, sub, { key: prefix }),
});
io.engine.on('connection', (rawSocket: { request: unknown }) => {
  rawSocket.request = null;
});

interface Member {
  readonly userId: string;
}

const rooms = new ChatRooms<Member>(peerModelFromEnvironment(), (roomId, _members, frame) => {
  io.to(roomId).emit('frame', frame);
});

io.on('connection', (socket) => {
  const { conversation, user_id: userId } = socket.handshake.auth as Record<string, unknown>;
  const roomId = typeof conversation === 'string' ? conversation : 'default';
  const member: Member = { userId: typeof userId === 'string' ? userId : 'anonymous' };
  void socket.join(roomId);
  socket.on('user_message', (message: unknown) => {
    rooms.receive(roomId, member, message);
  });
  socket.on('disconnect', () => {
    rooms.leave(roomId, member);
  });
  rooms.join(roomId, member, socket.id, (frame) => {
    socket.emit('frame', frame);
  });
});

httpServer.listen(0, '127.0.0.1', () => {
  const { port } = httpServer.address() as AddressInfo;
  serveControl(port, {
    close: () =>
      new Promise<void>((resolve) => {
        void io.close(() => {
          pub.disconnect();
          sub.disconnect();
          resolve();
        });
      }),
  });
});
