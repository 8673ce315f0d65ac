/**
 * What every benchmark server answers on its control channel: memory after a forced GC, CPU
 * time and event-loop delay, its own statistics, and a graceful shutdown.
 */
import { send, serveRequests } from '../support/ipc.js';
import { measureAfterGc, readUsage, resetLoopDelay } from '../support/usage.js';

/** What a server plugs into {@link serveControl}. */
export interface ServerHooks {
  /** Server-specific counters (connections, turns, model streams). */
  stats?: () => object;
  /** Closes the server; the process exits after it resolves. */
  close: () => Promise<void>;
}

/**
 * Serves the control requests (`usage`, `mark`, `measure`, `stats`, `shutdown`) and announces
 * `{ type: 'ready', port }`.
 *
 * @example
 * serveControl(port, { stats: () => engine.stats(), close: () => server.close() });
 */
export function serveControl(port: number, hooks: ServerHooks): void {
  serveRequests(async (request) => {
    switch (request.type) {
      case 'usage':
        return readUsage();
      case 'mark':
        resetLoopDelay();
        return readUsage();
      case 'measure':
        return measureAfterGc();
      case 'stats':
        return hooks.stats?.() ?? {};
      case 'shutdown':
        await hooks.close();
        // Exit after the reply is out; --cpu-prof writes its profile on this exit.
        setTimeout(() => process.exit(0), 50);
        return 'bye';
      default:
        throw new Error(`unknown request ${request.type}`);
    }
  });
  send({ type: 'ready', port, pid: process.pid });
}
