/**
 * Helpers for tests that talk to the fixture MCP servers of test/fixtures/mcp: their
 * configurations, the HTTP server as a child process, and waits on what `McpTools` reports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { McpConfig, McpServerStatus, McpTools } from '../../src/tools/mcp/index.js';
import type { ToolExecutionContext } from '../../src/tools/tool.js';

/** The repository root: the fixtures run from it so `--import tsx` resolves. */
export const REPOSITORY = new URL('../..', import.meta.url).pathname;

const STDIO_SERVER = new URL('../fixtures/mcp/stdio-server.ts', import.meta.url).pathname;
const HTTP_SERVER = new URL('../fixtures/mcp/http-server.ts', import.meta.url).pathname;

type ServerConfig = McpConfig['servers'][string];

/** The configuration of the stdio fixture server (`extra` adds or overrides fields). */
export function stdioFixture(
  options: { linger?: boolean; extra?: Partial<ServerConfig> } = {},
): ServerConfig {
  return {
    command: process.execPath,
    args: ['--import', 'tsx', STDIO_SERVER, ...(options.linger === true ? ['--linger'] : [])],
    cwd: REPOSITORY,
    ...options.extra,
  };
}

/** The HTTP fixture server, running as a child process on 127.0.0.1. */
export interface HttpFixture {
  url: string;
  port: number;
  process: ChildProcess;
  /** Kills the server with SIGKILL and waits for it to be gone. */
  kill(): Promise<void>;
  /** Starts a new server process on the same port (after `kill`). */
  restart(): Promise<void>;
}

/** Starts the HTTP fixture; `token` makes it require `Authorization: Bearer <token>`. */
export async function startHttpFixture(options: { token?: string } = {}): Promise<HttpFixture> {
  const launch = async (port: number) => {
    const args = ['--import', 'tsx', HTTP_SERVER, '--port', String(port)];
    if (options.token !== undefined) args.push('--token', options.token);
    const child = spawn(process.execPath, args, {
      cwd: REPOSITORY,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    lines.close();
    return { child, port: (JSON.parse(line) as { port: number }).port };
  };
  const first = await launch(0);
  const fixture: HttpFixture = {
    url: `http://127.0.0.1:${String(first.port)}/mcp`,
    port: first.port,
    process: first.child,
    async kill() {
      if (fixture.process.exitCode !== null || fixture.process.signalCode !== null) return;
      const exited = once(fixture.process, 'exit');
      fixture.process.kill('SIGKILL');
      await exited;
    },
    async restart() {
      fixture.process = (await launch(fixture.port)).child;
    },
  };
  return fixture;
}

/**
 * Resolves with the first status of `server` that satisfies `predicate`: the current one, or one
 * `McpTools` reports later. Rejects after `timeoutMs` with the last status seen.
 */
export function waitForStatus(
  mcp: McpTools,
  server: string,
  predicate: (status: McpServerStatus) => boolean,
  timeoutMs = 15_000,
): Promise<McpServerStatus> {
  const current = () => mcp.status().find((status) => status.name === server);
  return new Promise((resolve, reject) => {
    const check = (status: McpServerStatus | undefined) => {
      if (status === undefined || status.name !== server || !predicate(status)) return false;
      clearTimeout(timer);
      unsubscribe();
      resolve(status);
      return true;
    };
    const unsubscribe = mcp.subscribe(check);
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`Timed out; last status: ${JSON.stringify(current())}`));
    }, timeoutMs);
    check(current());
  });
}

/** A tool execution context with a fresh signal (or the given one). */
export function toolContext(
  signal: AbortSignal = new AbortController().signal,
): ToolExecutionContext {
  return { signal, now: () => Date.UTC(2026, 0, 1) };
}

/** Whether a process is alive: it exists and is not a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Linux: the state follows the parenthesised command name; `Z` is a zombie.
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The parent pid of a live process (Linux: from `/proc/<pid>/stat`). */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  // The fields after the parenthesised command name: state, then ppid.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
