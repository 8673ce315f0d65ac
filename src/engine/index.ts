/**
 * `parley-engine/engine`: the engine without a WebSocket server, for an application that brings
 * its own transport: it opens a connection per socket and hands the engine the socket's events.
 *
 * @example
 * import { createEngine } from 'parley-engine/engine';
 * const engine = createEngine({ config: loadConfig({}, { database: 'memory' }) });
 * const handle = await engine.openConnection({ userId: 'alice', conversationId: 'demo', socket });
 * handle.send({ type: 'frame.received', frame: { type: 'user_message', content: 'Hi' } });
 */
export { createEngine } from '../engine.js';
export { ParleyMetrics, type LeaseEventLike } from '../metrics/parley-metrics.js';
export type * from './engine-types.js';
export type { SocketPort, ConnectionEvent } from '../../actors/connection-types.js';
export type { TurnEvent, TurnFinishStatus } from '../agent/turn-event.js';
export type { WorkerPool } from '../../streams/worker-pool.js';
