import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startParleyProcess } from './support/parley-process.js';
import { connectClient, eventFrames } from './support/test-client.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

describe('a restart', () => {
  it.each(['main', 'worker'])(
    'loses nothing: after kill -9 mid-answer, a client resumes gaplessly to an interrupted completion and seq continues (log written by the %s thread)',
    async (thread) => {
      const directory = mkdtempSync(join(tmpdir(), 'parley-restart-'));
      directories.push(directory);
      const environment = {
        PARLEY_DB: join(directory, 'parley.db'),
        PARLEY_TOKEN_PACING_MS: '20',
        PARLEY_LOG_THREAD: thread,
      };

      const first = await startParleyProcess(environment);
      const alice = await connectClient(first.url, 'crash', 'alice');
      alice.send({ type: 'user_message', content: 'what can you do?', client_message_id: 'm-1' });
      const taken = await alice.waitForType('user_message');
      await alice.waitForType('agent_response_chunk', (frame) => frame.index === 5);
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      await alice.closed;
      const since = eventFrames(alice.frames).at(-1)?.seq ?? 0;

      const second = await startParleyProcess(environment);
      const again = await connectClient(second.url, 'crash', 'alice', {
        query: `user_id=alice&since=${since}`,
      });
      const complete = await again.waitForType('agent_response_complete');
      expect(complete.status).toBe('interrupted');

      const seen = [...eventFrames(alice.frames), ...eventFrames(again.frames)];
      const seqs = seen.map((frame) => frame.seq);
      expect(seqs).toEqual(seqs.map((_, index) => index + 1));
      // The interrupted answer keeps every token that was logged before the crash.
      const chunks = seen.filter((frame) => frame.type === 'agent_response_chunk');
      expect(complete.content).toBe(chunks.map((chunk) => chunk.delta).join(''));
      expect(complete.content.length).toBeGreaterThan(0);

      // A resend of the message from before the crash is recognised from the log, not taken twice.
      again.send({ type: 'user_message', content: 'what can you do?', client_message_id: 'm-1' });
      const duplicate = await again.waitForType('error');
      expect(duplicate).toMatchObject({
        code: 'duplicate_message',
        details: { client_message_id: 'm-1', seq: taken.seq },
      });

      // The conversation goes on where it was, with its history.
      again.send({ type: 'user_message', content: 'What is 2 + 2?' });
      const next = await again.waitForType(
        'agent_response_complete',
        (frame) => frame.seq > complete.seq,
      );
      expect(next).toMatchObject({ status: 'completed', content: '2 + 2 = 4.' });
      const after = eventFrames(again.frames).map((frame) => frame.seq);
      const start = after[0] ?? 0;
      expect(after).toEqual(after.map((_, index) => start + index));
      second.child.kill('SIGTERM');
      const [code] = (await once(second.child, 'exit')) as [number | null];
      expect(code).toBe(0);
    },
  );
});
