import type { InspectionEvent } from 'xstate';
import { sanitize, type SanitizeLimits } from './sanitize.js';

/** A running forwarder. */
export interface StatelyForwarder {
  inspect: (event: InspectionEvent) => void;
  stop: () => void;
}

/**
 * Forwards inspection events to a Stately Inspector WebSocket server (`@statelyai/inspect`), for
 * people who already use Stately's tools. Events pass through the same sanitizer as Parley's own
 * inspector, so injected effects and secrets never leave the process. The package is loaded
 * only when forwarding is configured.
 *
 * @example
 * const forwarder = await forwardToStately('ws://127.0.0.1:8081', limits);
 * createEngine({ ..., inspect: forwarder.inspect });
 */
export async function forwardToStately(
  url: string,
  limits: SanitizeLimits,
): Promise<StatelyForwarder> {
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const inspector = createWebSocketInspector({
    url,
    serialize: (event) => sanitize(event, { ...limits, maxDepth: 10 }) as typeof event,
  });
  return {
    inspect: (event) => {
      inspector.inspect.next?.(event);
    },
    stop: () => {
      inspector.stop();
    },
  };
}
