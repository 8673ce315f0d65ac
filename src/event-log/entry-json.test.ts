import { describe, expect, it } from 'vitest';
import { entryJson, withFrameJson } from './entry-json.js';
import { createEventLog } from './event-log.js';
import { MemoryEventStore } from './memory-store.js';

describe('entryJson', () => {
  it('writes a positioned frame entry byte for byte as JSON.stringify would, reusing the frame text', async () => {
    const log = createEventLog({ store: new MemoryEventStore() });
    await log.open('demo');
    const frame = { type: 'agent_response_chunk', delta: ' "quoted" \u2028', index: 3, seq: 7 };
    const [plain, direct, carrying] = log.append('demo', [
      withFrameJson(
        { kind: 'frame', conversation_id: 'demo', at: 1_700_000_000_123, seq: 7, frame },
        JSON.stringify(frame),
      ),
      withFrameJson(
        { kind: 'frame', conversation_id: 'demo', at: 5, seq: 7, frame, to: 'conn_"1"' },
        // Not the frame's text on purpose: the test sees that the given text is what is used.
        '{"type":"welcome"}',
      ),
      withFrameJson(
        {
          kind: 'frame',
          conversation_id: 'demo',
          at: 6,
          seq: 8,
          frame,
          part: { step: 2, offset_ms: 12.5 },
        },
        JSON.stringify(frame),
      ),
    ]);

    if (plain === undefined || direct === undefined || carrying === undefined) {
      throw new Error('three entries expected');
    }
    expect(entryJson(carrying)).toBe(JSON.stringify(carrying));
    expect(entryJson(plain)).toBe(JSON.stringify(plain));
    expect(entryJson(direct)).toBe(JSON.stringify({ ...direct, frame: { type: 'welcome' } }));
    await log.close();
  });

  it('stringifies an entry without frame text as it is', () => {
    const entry = {
      v: 1 as const,
      kind: 'input' as const,
      conversation_id: 'demo',
      position: 2,
      at: 3,
      after_seq: 0,
      input: { type: 'join' },
    };
    expect(entryJson(entry)).toBe(JSON.stringify(entry));
  });
});
