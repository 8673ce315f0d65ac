/**
 * The guard that keeps a stdio MCP server from outliving Parley.
 *
 * Parley does not run a stdio server directly: it runs `node -e <guard> -- command ...args`. The
 * guard starts the server in its own process group on the same stdin, stdout and stderr (it never
 * reads them, so the MCP bytes pass untouched), and ends that whole group, SIGTERM then SIGKILL
 * after a grace period, when:
 * - the guard gets SIGTERM or SIGHUP (the MCP client's `close()` sends SIGTERM to a server that
 *   has not exited 2 s after its stdin closed);
 * - Parley dies, even by SIGKILL: the guard is re-parented, which it notices by polling its
 *   parent pid (Node has no `prctl(PR_SET_PDEATHSIG)`);
 * - the server exits: whatever it started in its group (`npx` starts a shell, which starts node)
 *   is killed with it.
 * The guard exits with the server's exit code. Ctrl-C's SIGINT is ignored: it reaches Parley too,
 * which closes its servers in order. Process groups are POSIX; on Windows only the server itself
 * is killed.
 */
import type * as ChildProcesses from 'node:child_process';

/** How often the guard checks that Parley is still its parent. */
export const GUARD_PARENT_POLL_MS = 250;

/** How long the server has between SIGTERM and SIGKILL. */
export const GUARD_GRACE_MS = 1_000;

/**
 * The `node` arguments that run `command` with `args` under the guard.
 *
 * @example
 * new StdioClientTransport({ command: process.execPath, args: guardedArguments('npx', ['-y', 'x']) });
 */
export function guardedArguments(command: string, args: readonly string[]): string[] {
  return ['-e', GUARD_SCRIPT, '--', command, ...args];
}

/**
 * The guard itself. It runs in a plain `node -e` process, so it is serialised with
 * `Function.prototype.toString` and may use only its parameters and globals, no imports.
 */
function runStdioGuard(
  childProcesses: typeof ChildProcesses,
  guard: NodeJS.Process,
  pollMs: number,
  graceMs: number,
): void {
  const [command = '', ...args] = guard.argv.slice(1);
  const parentPid = guard.ppid;
  const posix = guard.platform !== 'win32';
  const server = childProcesses.spawn(command, args, { stdio: 'inherit', detached: posix });
  let stopping = false;
  const killGroup = (signal: NodeJS.Signals): void => {
    try {
      if (posix && server.pid !== undefined) guard.kill(-server.pid, signal);
      else server.kill(signal);
    } catch {
      // ESRCH: nothing is left in the group.
    }
  };
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    killGroup('SIGTERM');
    setTimeout(() => {
      killGroup('SIGKILL');
    }, graceMs);
  };
  const watch = setInterval(() => {
    if (guard.ppid !== parentPid) stop();
  }, pollMs);
  server.on('error', (error) => {
    guard.stderr.write(`parley stdio guard: cannot start "${command}": ${error.message}\n`);
    guard.exit(127);
  });
  server.on('exit', (code) => {
    clearInterval(watch);
    killGroup('SIGKILL');
    guard.exit(code ?? 1);
  });
  guard.on('SIGTERM', stop);
  guard.on('SIGHUP', stop);
  guard.on('SIGINT', () => undefined);
}

// tsx (which runs Parley's sources in development) compiles with esbuild's `keepNames`, which
// wraps named functions in a `__name(...)` helper that a bare `node -e` does not define.
const GUARD_SCRIPT = `var __name = (target) => target;
(${runStdioGuard.toString()})(require('node:child_process'), process, ${String(GUARD_PARENT_POLL_MS)}, ${String(GUARD_GRACE_MS)});`;
