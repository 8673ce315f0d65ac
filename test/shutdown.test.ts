import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient } from './support/test-client.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Starts `parley serve` as a real process and resolves with its URL once it listens. */
async function startProcess(environment: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: new URL('..', import.meta.url),
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'warn', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`parley exited with ${String(code)} before listening: ${output}`));
    });
  });
  return { child, url };
}

describe('graceful shutdown', () => {
  it('lets the running turn finish on SIGTERM, closes sockets with 1012 and exits 0', async () => {
    const { child, url } = await startProcess({ PARLEY_TOKEN_PACING_MS: '15' });
    const alice = await connectClient(url, 'drain', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    await alice.waitForType('agent_response_chunk');
    child.kill('SIGTERM');

    const complete = await alice.waitForType('agent_response_complete');
    expect(complete.status).toBe('completed');
    expect(complete.content).toMatch(/^I can help with/);
    await expect(alice.closed).resolves.toEqual({ code: 1012, reason: 'server_shutdown' });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('interrupts a turn still running when the grace period ends, and exits 0', async () => {
    const { child, url } = await startProcess({
      PARLEY_TOKEN_PACING_MS: '200',
      PARLEY_SHUTDOWN_GRACE_MS: '100',
    });
    const alice = await connectClient(url, 'drain-late', 'alice');
    alice.send({ type: 'user_message', content: 'what can you do?' });
    await alice.waitForType('agent_response_chunk');
    child.kill('SIGTERM');

    const complete = await alice.waitForType('agent_response_complete');
    expect(complete.status).toBe('interrupted');
    expect(complete.content.length).toBeGreaterThan(0);
    await expect(alice.closed).resolves.toEqual({ code: 1012, reason: 'server_shutdown' });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
