/**
 * One Socket.IO instance of a three-instance cluster for bench/cluster-fan-out.ts: rooms per
 * conversation, fan-out between instances through `@socket.io/redis-adapter` on the same Redis
 * Parley uses. A `user_message` to the instance a client is connected to makes that instance
 * stream `BENCH_TOKENS` tokens to the room (one `emit` each, as fast as possible), then a
 * completion: the same shape as Parley's answer with pacing off, without a log or a model.
 * Prints `listening on http://…` once ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const tokens = Number(process.env.BENCH_TOKENS ?? '20');
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.BENCH_REDIS_PREFIX ?? 'socket.io';
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const httpServer = createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  adapter: createAdapter(pub, sub, { key: prefix }),
});
let seq = 0;
io.on('connection', (socket) => {
  const { conversation } = socket.handshake.auth as { conversation: string };
  void socket.join(conversation);
  socket.on('user_message', (content: string) => {
    const room = io.to(conversation);
    room.emit('frame', { type: 'user_message', content, seq: ++seq, timestamp: Date.now() });
    for (let index = 0; index < tokens; index += 1) {
      room.emit('frame', {
        type: 'agent_response_chunk',
        index,
        delta: ` token${String(index)}`,
        seq: ++seq,
        timestamp: Date.now(),
      });
    }
    room.emit('frame', { type: 'agent_response_complete', seq: ++seq, timestamp: Date.now() });
  });
});
httpServer.listen(0, '127.0.0.1', () => {
  const { port } = httpServer.address() as AddressInfo;
  process.stdout.write(`listening on http://127.0.0.1:${String(port)}\n`);
});
