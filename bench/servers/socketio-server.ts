/**
 * The Socket.IO comparison server: rooms and `emit`, the way Socket.IO is meant to be used, over
 * the WebSocket transport only (no long-polling). Same frames and model as the others; Socket.IO
 * serializes each broadcast once for the whole room.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { benchModelOptionsFromEnvironment, createBenchModel } from './bench-model.js';
import { ChatRooms } from './chat-room.js';
import { serveControl } from './server-control.js';

interface Member {
  readonly userId: string;
  readonly socket: Socket;
}

const httpServer = createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 65_536,
});

const rooms = new ChatRooms<Member>(
  createBenchModel(benchModelOptionsFromEnvironment()),
  (roomId, _members, frame) => {
    io.to(roomId).emit('frame', frame);
  },
);

io.on('connection', (socket) => {
  const { conversation, user_id: userId } = socket.handshake.query;
  const roomId = typeof conversation === 'string' ? conversation : 'default';
  const member: Member = { userId: typeof userId === 'string' ? userId : 'anonymous', socket };
  void socket.join(roomId);
  // Socket.IO has already parsed the packet's JSON; the payload arrives as an object.
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
    stats: () => ({ connections: io.engine.clientsCount, conversations: rooms.size }),
    close: () =>
      new Promise<void>((resolve) => {
        void io.close(() => {
          resolve();
        });
      }),
  });
});
