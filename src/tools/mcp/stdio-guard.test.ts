import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it, vi } from 'vitest';
import { isRunning } from '../../../test/support/mcp-fixtures.js';
import { guardedArguments } from './stdio-guard.js';

describe('the stdio guard', () => {
  it('passes the server’s stdio and exit code through, and kills what it left in its group', async () => {
    // The server starts a long sleep in the background, says its pid, echoes a line, and exits 5.
    const guard = spawn(
      process.execPath,
      guardedArguments('sh', ['-c', 'sleep 300 & echo "$!"; read line; echo "got $line"; exit 5']),
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: guard.stdout });
    const [sleeper] = (await once(lines, 'line')) as [string];
    expect(isRunning(Number(sleeper))).toBe(true);
    guard.stdin.write('ping\n');
    const [answer] = (await once(lines, 'line')) as [string];
    expect(answer).toBe('got ping');
    const [code] = (await once(guard, 'exit')) as [number];
    expect(code).toBe(5);
    // SIGKILL was sent before the guard exited; the kernel ends the sleeper when it next runs.
    await vi.waitFor(
      () => {
        expect(isRunning(Number(sleeper))).toBe(false);
      },
      { timeout: 2_000, interval: 20 },
    );
  });

  it('exits with 127 and says why when the command does not exist', async () => {
    const guard = spawn(process.execPath, guardedArguments('parley-no-such-command', []), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    guard.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const [code] = (await once(guard, 'exit')) as [number];
    expect(code).toBe(127);
    expect(stderr).toBe(
      'parley stdio guard: cannot start "parley-no-such-command": spawn parley-no-such-command ENOENT\n',
    );
  });
});
