import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../src/protocol/frames.js';
import { serverFrameSchema } from '../src/protocol/frames.js';
import { connectClient, eventFrames } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

const strip = ({ timestamp: _timestamp, ...frame }: ServerFrame) => frame;

describe('a conversation over real sockets', () => {
  it('answers "What is 5 + 3?" with the user message, typing, tool call, result 8, chunks and a completion', async () => {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'math', 'alice');
    alice.send({ type: 'user_message', content: 'What is 5 + 3?' });
    const complete = await alice.waitForType('agent_response_complete');

    const turn = eventFrames(alice.frames).filter((frame) => frame.seq > 1);
    expect(turn.map((frame) => frame.type)).toEqual([
      'user_message',
      'typing_indicator',
      'tool_call',
      'tool_result',
      ...turn
        .filter((frame) => frame.type === 'agent_response_chunk')
        .map(() => 'agent_response_chunk'),
      'agent_response_complete',
    ]);
    const toolCall = turn.find((frame) => frame.type === 'tool_call');
    expect(toolCall).toMatchObject({ tool_name: 'calculator', arguments: { expression: '5 + 3' } });
    const toolResult = turn.find((frame) => frame.type === 'tool_result');
    expect(toolResult).toMatchObject({ ok: true, result: { result: 8 } });
    const chunks = turn.filter((frame) => frame.type === 'agent_response_chunk');
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((chunk) => chunk.delta).join('')).toBe(complete.content);
    expect(complete).toMatchObject({ status: 'completed', content: '5 + 3 = 8.', steps: 2 });
    expect(complete.usage.total_tokens).toBe(
      complete.usage.input_tokens + complete.usage.output_tokens,
    );
    expect(complete.usage.output_tokens).toBeGreaterThan(0);
    for (const frame of alice.frames) {
      expect(() => serverFrameSchema.parse(frame)).not.toThrow();
    }
  });

  it('gives two participants identical frame sequences with gapless seq from 1', async () => {
    const server = await startTestServer({ tokenPacingMs: 1 });
    const alice = await connectClient(server.url, 'pair', 'alice');
    const bob = await connectClient(server.url, 'pair', 'bob');
    bob.send({ type: 'typing_indicator', is_typing: true });
    alice.send({ type: 'user_message', content: 'What is (5 + 3) * 2 ^ 3?' });
    await Promise.all([
      alice.waitForType('agent_response_complete'),
      bob.waitForType('agent_response_complete'),
    ]);
    bob.send({ type: 'user_message', content: 'weather in Paris' });
    await Promise.all([
      alice.waitForType('agent_response_complete', (frame) => frame.content.includes('Paris')),
      bob.waitForType('agent_response_complete', (frame) => frame.content.includes('Paris')),
    ]);
    await bob.close();
    await alice.waitForType('presence', (frame) => frame.status === 'left');

    const aliceEvents = eventFrames(alice.frames);
    const bobEvents = eventFrames(bob.frames);
    expect(aliceEvents.map((frame) => frame.seq)).toEqual(aliceEvents.map((_, index) => index + 1));
    // Bob joined after alice's presence (seq 1): from seq 2 on, both saw exactly the same frames.
    expect(bobEvents[0]?.seq).toBe(2);
    expect(bobEvents.map((frame) => frame.seq)).toEqual(bobEvents.map((_, index) => index + 2));
    expect(bobEvents.map(strip)).toEqual(aliceEvents.slice(1, bobEvents.length + 1).map(strip));
    expect(aliceEvents.at(-1)).toMatchObject({ type: 'presence', status: 'left', user_id: 'bob' });
    const bobWelcome = bob.frames[0];
    expect(bobWelcome).toMatchObject({ type: 'welcome', seq: 1, participants: ['alice', 'bob'] });
  });

  it('keeps the partial answer when a participant cancels mid-stream', async () => {
    const server = await startTestServer({ tokenPacingMs: 20 });
    const alice = await connectClient(server.url, 'cancel', 'alice');
    const bob = await connectClient(server.url, 'cancel', 'bob');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    await bob.waitForType('agent_response_chunk', (frame) => frame.index === 2);
    bob.send({ type: 'cancel' });
    const complete = await alice.waitForType('agent_response_complete');
    const chunks = alice.frames.filter((frame) => frame.type === 'agent_response_chunk');
    expect(complete).toMatchObject({ status: 'cancelled', cancelled_by: 'bob' });
    expect(complete.content).toBe(chunks.map((chunk) => chunk.delta).join(''));
    expect(complete.content.length).toBeGreaterThan(0);
    // A prefix of the help text, cut where bob cancelled.
    expect(complete.content.startsWith('I can help')).toBe(true);
    expect(complete.content.length).toBeLessThan(80);

    // The conversation goes on: the next message gets a full answer.
    alice.send({ type: 'user_message', content: 'What is 2 + 2?' });
    const next = await alice.waitForType(
      'agent_response_complete',
      (frame) => frame.seq > complete.seq,
    );
    expect(next).toMatchObject({ status: 'completed', content: '2 + 2 = 4.' });
  });

  it('queues overlapping messages by default and answers them in order', async () => {
    const server = await startTestServer({ tokenPacingMs: 5 });
    const alice = await connectClient(server.url, 'queue', 'alice');
    alice.send({ type: 'user_message', content: 'What is 1 + 1?' });
    alice.send({ type: 'user_message', content: 'What is 2 + 2?' });
    alice.send({ type: 'user_message', content: 'What is 3 + 3?' });
    await alice.waitForType('agent_response_complete', (frame) => frame.content === '3 + 3 = 6.');
    const completions = alice.frames.filter((frame) => frame.type === 'agent_response_complete');
    expect(completions.map((frame) => [frame.status, frame.content])).toEqual([
      ['completed', '1 + 1 = 2.'],
      ['completed', '2 + 2 = 4.'],
      ['completed', '3 + 3 = 6.'],
    ]);
    // Turns never overlap: each turn's frames end before the next turn's typing indicator.
    const turnOrder = eventFrames(alice.frames)
      .filter((frame) => 'turn_id' in frame && frame.type !== 'user_message')
      .map((frame) => (frame as { turn_id: string }).turn_id);
    const switches = turnOrder.filter((id, index) => index > 0 && id !== turnOrder[index - 1]);
    expect(switches).toHaveLength(2);
  });

  it('interrupts the running turn when the overlap policy is interrupt', async () => {
    const server = await startTestServer({ tokenPacingMs: 20, overlapPolicy: 'interrupt' });
    const alice = await connectClient(server.url, 'interrupt', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    await alice.waitForType('agent_response_chunk', (frame) => frame.index === 1);
    alice.send({ type: 'user_message', content: 'What is 2 + 2?' });
    await alice.waitForType('agent_response_complete', (frame) => frame.status === 'completed');
    const completions = alice.frames.filter((frame) => frame.type === 'agent_response_complete');
    expect(completions.map((frame) => frame.status)).toEqual(['interrupted', 'completed']);
    expect(completions[0]?.content.length).toBeGreaterThan(0);
    expect(completions[1]?.content).toBe('2 + 2 = 4.');
  });
});
