import { describe, expect, it } from 'vitest';
import { decodeFrameFields, encodeFrameFields, type ClusterFrame } from './frame-stream-entry.js';

describe('frame stream entries', () => {
  it.each<[string, ClusterFrame]>([
    ['an event', { seq: 7, text: '{"type":"presence"}' }],
    ['a direct frame', { seq: 7, to: 'conn_1', text: '{"type":"pong"}' }],
    ['a close', { seq: 7, to: 'conn_1', text: '', close: { code: 4403, reason: 'revoked' } }],
    ['an acknowledgement', { seq: 9, to: 'conn_1', text: '', ack: 'b:1f2e' }],
    ['a lease release', { seq: 9, text: '', released: true }],
  ])('carries %s through its fields unchanged', (_, frame) => {
    expect(decodeFrameFields(encodeFrameFields(frame))).toEqual(frame);
  });

  it('drops an acknowledgement without a connection (it only means something to one)', () => {
    expect(decodeFrameFields(['s', '3', 'f', '', 'a', 'b:1'])).toEqual({ seq: 3, text: '' });
  });

  it('refuses fields that are not a frame', () => {
    expect(decodeFrameFields(['s', 'x', 'f', '{}'])).toBeUndefined();
    expect(decodeFrameFields(['s', '1'])).toBeUndefined();
  });
});
