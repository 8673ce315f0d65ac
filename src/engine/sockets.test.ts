import { describe, expect, it } from 'vitest';
import type { SocketPort } from '../../actors/connection-types.js';
import { Sockets } from './sockets.js';

/** A port that keeps the seq of every frame written to it. */
function recordingPort(): SocketPort & { seqs: number[] } {
  const seqs: number[] = [];
  return {
    seqs,
    send: (data) => {
      seqs.push((JSON.parse(data) as { seq: number }).seq);
    },
    close: () => undefined,
    terminate: () => undefined,
    ping: () => undefined,
  };
}

const frame = (seq: number) => JSON.stringify({ type: 'agent_response_chunk', seq });

function sockets() {
  return new Sockets({ onOverflow: () => undefined, currentSeq: () => 0, now: () => 0 });
}

describe('Sockets', () => {
  it('never writes an event seq a connection already has, live or from the log', () => {
    const registry = sockets();
    const port = recordingPort();
    registry.add('c1', 'demo', port, { lastEventSeq: 4 });

    // A frame the client had before it resumed, then new ones, one of them relayed twice (as a
    // new owner may after a handover).
    for (const seq of [4, 5, 6, 6, 7]) registry.sendEvent('c1', frame(seq), seq);
    registry.sendEventToAll(['c1'], frame(7), 7, 'agent_response_chunk');
    registry.sendMissed('c1', frame(5), 5);

    expect(port.seqs).toEqual([5, 6, 7]);
  });

  it('sends a catch-up from the log, then the held live frames it did not cover, once each', () => {
    const registry = sockets();
    const port = recordingPort();
    registry.add('c1', 'demo', port, { gated: true, lastEventSeq: 2 });

    // Live frames arrive while the catch-up reads the log; the log covers up to 5.
    registry.sendEvent('c1', frame(5), 5);
    registry.sendEvent('c1', frame(6), 6);
    for (const seq of [3, 4, 5]) registry.sendMissed('c1', frame(seq), seq);
    registry.sendMissed('c1', frame(4), 4);
    expect(registry.releasePage('c1', 10)).toBe(true);
    registry.sendEvent('c1', frame(6), 6);
    registry.sendEvent('c1', frame(7), 7);

    expect(port.seqs).toEqual([3, 4, 5, 6, 7]);
    expect(registry.lastEventSeqOf('c1')).toBe(7);
  });
});
