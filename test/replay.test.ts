import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ParleyError } from '../src/errors.js';
import type { LogEntry } from '../src/event-log/log-entry.js';
import { formatRecording, parseRecording } from '../src/replay/read-recording.js';
import { MemoryEventStore } from '../src/event-log/memory-store.js';
import { exportConversation } from '../src/replay/export-conversation.js';
import { replayRecording } from '../src/replay/replay-recording.js';
import { connectClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

const fixtures = new URL('./fixtures/', import.meta.url);
const fixture = (name: string) => join(fixtures.pathname, name);
const recordings = readdirSync(fixtures).filter((name) => name.endsWith('.jsonl'));
const lines = (name: string) => readFileSync(fixture(name), 'utf8').trimEnd().split('\n');

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

describe('golden recordings', () => {
  it('has the seven scenarios', () => {
    expect(recordings.sort()).toEqual([
      'busy.jsonl',
      'cancelled-turn.jsonl',
      'resume-mid-stream.jsonl',
      'tool-approval.jsonl',
      'tool-call.jsonl',
      'tool-timeout.jsonl',
      'two-participants.jsonl',
    ]);
  });

  it.each(recordings)('replays %s with identical frames', async (name) => {
    const result = await replayRecording(fixture(name));
    expect(result.divergence).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.frames).toBeGreaterThan(5);
  });

  it('replays with the live offline model too, since it is deterministic', async () => {
    const result = await replayRecording(fixture('tool-call.jsonl'), { live: true });
    expect(result.divergence).toBeUndefined();
  });
});

describe('entry version 2', () => {
  it('logs a streamed token as one entry, its chunk carrying the model part, and replays it with identical frames', async () => {
    // Pacing 0: each chunk follows its part at once (with pacing, the parts that arrive before
    // their chunks are logged on their own: see the next test).
    const store = new MemoryEventStore();
    const server = await startTestServer({ store, tokenPacingMs: 0 });
    const alice = await connectClient(server.url, 'v2', 'alice');
    alice.send({ type: 'user_message', content: 'What is 5 + 3?' });
    await alice.waitForType('agent_response_complete');
    await alice.close();
    await server.engine.log.flush();
    const text = await exportConversation(store, 'v2');
    const recording = parseRecording(text, 'v2.jsonl');

    const chunks = recording.entries.filter(
      (entry) => entry.kind === 'frame' && entry.frame.type === 'agent_response_chunk',
    );
    const textParts = recording.entries.filter(
      (entry) => entry.kind === 'model.part' && entry.part.type === 'text-delta',
    );
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((entry) => entry.v === 2 && 'part' in entry)).toBe(true);
    expect(textParts).toEqual([]);
    const result = await replayRecording(recording);
    expect(result.divergence).toBeUndefined();
    expect(result.ok).toBe(true);
  });

  it('replays a paced answer whose parts came before their chunks, logged as entries of their own', async () => {
    const store = new MemoryEventStore();
    const server = await startTestServer({ store, tokenPacingMs: 5 });
    const alice = await connectClient(server.url, 'paced', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    await alice.waitForType('agent_response_complete');
    await alice.close();
    await server.engine.log.flush();
    const recording = parseRecording(await exportConversation(store, 'paced'), 'paced.jsonl');

    const kinds = new Set(
      recording.entries.map((entry) =>
        entry.kind === 'frame' && 'part' in entry ? 'carrying chunk' : entry.kind,
      ),
    );
    expect(kinds).toContain('model.part');
    const result = await replayRecording(recording);
    expect(result.divergence).toBeUndefined();
    expect(result.ok).toBe(true);
  });
});

describe('decisions of the world outside the conversation', () => {
  const entries = () => lines('busy.jsonl').map((line) => JSON.parse(line) as LogEntry);

  it('replays a busy refusal and a turn that waited for a worker exactly, alone', async () => {
    const result = await replayRecording(fixture('busy.jsonl'));
    expect(result.divergence).toBeUndefined();
    const busy = result.entries.find(
      (entry) => entry.kind === 'frame' && entry.frame.type === 'error',
    );
    expect(busy).toMatchObject({ frame: { code: 'busy' } });
  });

  it('diverges at the refusal when the recorded decision is removed: the replay pool had room', async () => {
    const altered = entries().map((entry) => {
      if (entry.kind !== 'input' || entry.input.admitted !== false) return entry;
      const input = { ...entry.input };
      delete input.admitted;
      return { ...entry, input };
    });
    const result = await replayRecording(parseRecording(formatRecording(altered), 'no-decision'));
    expect(result.ok).toBe(false);
    expect(result.divergence?.expected).toMatchObject({ type: 'error', code: 'busy' });
  });

  it('diverges when the recorded start of the waiting turn is removed: it starts too early', async () => {
    const altered = entries().filter(
      (entry) => !(entry.kind === 'input' && entry.input.type === 'turn.started'),
    );
    const result = await replayRecording(parseRecording(formatRecording(altered), 'no-start'));
    expect(result.ok).toBe(false);
  });
});

describe('tool approval', () => {
  const entries = () => lines('tool-approval.jsonl').map((line) => JSON.parse(line) as LogEntry);
  const decisions = (replayed: readonly LogEntry[]) =>
    replayed.flatMap((entry) =>
      entry.kind === 'frame' && entry.frame.type === 'tool_approval_decision'
        ? [[entry.frame.decision, entry.frame.decided_by ?? 'deadline']]
        : [],
    );

  it('replays an approved, a denied and an unanswered call: answers as inputs, the deadline on the virtual clock', async () => {
    const result = await replayRecording(fixture('tool-approval.jsonl'));
    expect(result.divergence).toBeUndefined();
    expect(decisions(result.entries)).toEqual([
      ['approved', 'bob'],
      ['denied', 'alice'],
      ['denied', 'deadline'],
    ]);
    // A second of waiting for nobody, replayed without waiting.
    expect(result.recordedMs).toBeGreaterThan(1_000);
  });

  it('diverges at the decision when the recorded answer is removed: the deadline decides instead', async () => {
    const altered = entries().filter(
      (entry) => !(entry.kind === 'input' && entry.input.type === 'user.tool_approval'),
    );
    const result = await replayRecording(parseRecording(formatRecording(altered), 'no-answer'));
    expect(result.ok).toBe(false);
    expect(result.divergence?.expected).toMatchObject({
      type: 'tool_approval_decision',
      decided_by: 'bob',
    });
    expect(result.divergence?.actual).toMatchObject({ decision: 'denied', timed_out: true });
  });
});

describe('a changed recording', () => {
  it('fails at the seq of the tool result when one recorded tool result is altered', async () => {
    const entries = lines('tool-call.jsonl').map((line) => JSON.parse(line) as LogEntry);
    const outcome = entries.find((entry) => entry.kind === 'tool.outcome');
    if (outcome?.kind !== 'tool.outcome' || !outcome.outcome.ok) throw new Error('fixture changed');
    outcome.outcome.output = { expression: '5 + 3', result: 9 };
    const recordedResult = entries.find(
      (entry) => entry.kind === 'frame' && entry.frame.type === 'tool_result',
    );

    const result = await replayRecording(parseRecording(formatRecording(entries), 'altered'));
    expect(result.ok).toBe(false);
    expect(result.divergence?.seq).toBe(recordedResult?.kind === 'frame' ? recordedResult.seq : -1);
    expect(result.divergence?.diff).toEqual(['- result.result: 8', '+ result.result: 9']);
  });
});

describe('bad recordings', () => {
  const reject = (text: string) => {
    try {
      parseRecording(text, 'bad.jsonl');
    } catch (error) {
      expect(error).toBeInstanceOf(ParleyError);
      return (error as ParleyError).message;
    }
    throw new Error('the recording was accepted');
  };

  it('rejects a truncated last line with its line number', () => {
    const text = lines('tool-call.jsonl').join('\n');
    expect(reject(text.slice(0, -10))).toMatch(/^bad\.jsonl:26: truncated line/);
  });

  it('rejects an unknown entry version with its line number', () => {
    const all = lines('tool-call.jsonl');
    all[2] = all[2]?.replace('"v":1', '"v":3') ?? '';
    expect(reject(all.join('\n'))).toBe(
      'bad.jsonl:3: unknown entry version 3 (this parley reads versions 1 and 2, writes 2)',
    );
  });

  it('rejects out-of-order seq with its line number', () => {
    const all = lines('tool-call.jsonl');
    const frameLines = all
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => line.includes('"kind":"frame"') && !line.includes('"to":'));
    const [first, second] = frameLines;
    if (first === undefined || second === undefined) throw new Error('fixture changed');
    all[second.index] = second.line.replace(/"seq":\d+/, '"seq":7');
    expect(reject(all.join('\n'))).toMatch(
      new RegExp(`^bad\\.jsonl:${second.index + 1}: seq 7 follows seq 1 \\(expected 2`),
    );
  });
});

describe('parley replay', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'replay', ...args], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
    });

  it('replays a directory with progress and a summary, exiting 0', () => {
    const run = cli('test/fixtures');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('[2/7] ✓ test/fixtures/cancelled-turn.jsonl');
    expect(run.stdout).toContain('7 recordings: 7 identical, 0 diverged, 0 unreadable');
  });

  it('prints the first divergence as a diff and exits 1', () => {
    const directory = mkdtempSync(join(tmpdir(), 'parley-replay-'));
    directories.push(directory);
    const altered = lines('tool-call.jsonl')
      .map((line) =>
        line.includes('"kind":"tool.outcome"') ? line.replace('"result":8}', '"result":9}') : line,
      )
      .join('\n');
    const file = join(directory, 'altered.jsonl');
    writeFileSync(file, `${altered}\n`);
    const run = cli(file);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/✗ .*altered\.jsonl: diverges at seq \d+/);
    expect(run.stdout).toContain('- result.result: 8');
    expect(run.stdout).toContain('+ result.result: 9');
  });
});
