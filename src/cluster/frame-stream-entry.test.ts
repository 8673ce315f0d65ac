import { describe, expect, it } from 'vitest';
import {
  decodeEntryFields,
  decodeFrameFields,
  encodeEntryFields,
  encodeFrameFields,
  streamIdAfter,
  type ClusterFrame,
} from './frame-stream-entry.js';

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

  it('still closes with 1011 on a close code this version does not know (a newer owner wrote it)', () => {
    expect(decodeFrameFields(['s', '3', 'f', '', 't', 'conn_1', 'c', '4999', 'r', 'new'])).toEqual({
      seq: 3,
      to: 'conn_1',
      text: '',
      close: { code: 1011, reason: 'new' },
    });
  });

  it('refuses fields that are not a frame', () => {
    expect(decodeFrameFields(['s', 'x', 'f', '{}'])).toBeUndefined();
    expect(decodeFrameFields(['s', '1'])).toBeUndefined();
  });

  it('carries several frames in one entry, in order', () => {
    const frames: ClusterFrame[] = [
      { seq: 7, text: '{"type":"agent_response_chunk"}' },
      { seq: 7, to: 'conn_1', text: '', ack: 'b:1f2e' },
      { seq: 8, text: 's' },
      { seq: 8, to: 'conn_2', text: '', close: { code: 4403, reason: 's' } },
      { seq: 8, text: '', released: true },
    ];
    expect(decodeEntryFields(encodeEntryFields(frames))).toEqual({ frames, skipped: 0 });
  });

  it('reads an entry of one frame, as written before entries carried several', () => {
    expect(decodeEntryFields(['s', '4', 'f', '{}', 't', 'conn_1'])).toEqual({
      frames: [{ seq: 4, to: 'conn_1', text: '{}' }],
      skipped: 0,
    });
  });

  it('skips the runs of fields that are not a frame and keeps the others', () => {
    expect(decodeEntryFields(['s', 'x', 'f', '{}', 's', '2', 'f', 'ok', 'w', '1'])).toEqual({
      frames: [{ seq: 2, text: 'ok' }],
      skipped: 1,
    });
    expect(decodeEntryFields(['w', '1'])).toEqual({ frames: [], skipped: 1 });
  });

  it('starts a follower before the first entry that can hold a frame of its seq', () => {
    expect(streamIdAfter(0)).toBe('0-0');
    expect(streamIdAfter(12)).toBe('11-18446744073709551615');
  });
});
