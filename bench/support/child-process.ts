/**
 * The parent side of the control channel: starts a server or client as a child process (with the
 * open-files limit raised to the hard limit), sends it requests and waits for replies and events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ControlReply } from './ipc.js';

/** How to start a {@link BenchChild}. */
export interface BenchChildOptions {
  /** Shown in errors and logs, e.g. `parley server`. */
  name: string;
  /** Absolute path of the compiled script. */
  script: string;
  /** Node flags, e.g. `--expose-gc`. @default [] */
  nodeFlags?: readonly string[];
  /** Added to (and overriding) the parent's environment. @default {} */
  env?: Record<string, string>;
  /** Echo the child's output as it comes. @default false */
  verbose?: boolean;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** A message a child sends without being asked, e.g. `{ type: 'ready', port }`. */
export interface ChildEvent {
  type: string;
  [key: string]: unknown;
}

/**
 * A running child process with a request/reply channel.
 *
 * @example
 * const server = startChild({ name: 'ws server', script });
 * const { port } = await server.next('ready');
 * const usage = await server.request({ type: 'usage' });
 */
export class BenchChild {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly events: ChildEvent[] = [];
  private readonly waiters: { type: string; resolve: (event: ChildEvent) => void }[] = [];
  private readonly tail: string[] = [];
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<string>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    verbose: boolean,
  ) {
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        if (verbose) process.stderr.write(`[${name}] ${line}\n`);
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('message', (message: ControlReply | ChildEvent) => {
      if (message.type === 'reply' && typeof message.id === 'number') {
        this.settle(message as ControlReply);
        return;
      }
      const waiter = this.waiters.findIndex((candidate) => candidate.type === message.type);
      if (waiter >= 0) this.waiters.splice(waiter, 1)[0]?.resolve(message);
      else this.events.push(message);
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        const how = signal ?? String(code);
        for (const [, pending] of this.pending) {
          clearTimeout(pending.timer);
          pending.reject(new Error(`${name} exited (${how}) before replying.\n${this.output()}`));
        }
        this.pending.clear();
        resolve(how);
      });
    });
  }

  /** The child's process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The last lines the child printed. */
  output(): string {
    return this.tail.join('\n');
  }

  /** Sends a request and resolves with the child's result. */
  request<TResult>(
    message: { type: string; [key: string]: unknown },
    timeoutMs = 120_000,
  ): Promise<TResult> {
    const id = this.nextId;
    this.nextId += 1;
    return new Promise<TResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no reply to ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.child.send({ ...message, id });
    });
  }

  /** Resolves with the next event of `type` the child sends (or one it already sent). */
  next(type: string, timeoutMs = 60_000): Promise<ChildEvent> {
    const index = this.events.findIndex((event) => event.type === type);
    if (index >= 0) return Promise.resolve(this.events.splice(index, 1)[0] as ChildEvent);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: no ${type} within ${timeoutMs} ms\n${this.output()}`));
      }, timeoutMs);
      const exit = (how: string) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${how}) before ${type}\n${this.output()}`));
      };
      void this.exited.then(exit);
      this.waiters.push({
        type,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  /**
   * Asks the child to shut down (`shutdown` request: a server closes gracefully, which also lets
   * `--cpu-prof` write its profile), then kills it if it has not exited within `graceMs`.
   */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      if (this.child.connected) await this.request({ type: 'shutdown' }, graceMs);
    } catch {
      // The child may exit before it answers; exiting is what we asked for.
    }
    await this.exited;
    clearTimeout(timer);
  }

  private settle(reply: ControlReply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.result);
    else pending.reject(new Error(`${this.name}: ${reply.error}`));
  }
}

/**
 * Starts a compiled script under Node with an IPC channel. A shell raises the open-files limit to
 * the hard limit first: 10,000 sockets need more than the usual soft limit of 1,024.
 */
export function startChild(options: BenchChildOptions): BenchChild {
  const environment: Record<string, string | undefined> = { ...process.env, ...options.env };
  // A runner started through tsx must not load tsx into the measured processes.
  if (environment.NODE_OPTIONS?.includes('tsx') === true) delete environment.NODE_OPTIONS;
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
      'sh',
      process.execPath,
      ...(options.nodeFlags ?? []),
      // BENCH_CPU_PROF=<dir>: every child writes a CPU profile named after it there.
      ...(process.env.BENCH_CPU_PROF === undefined
        ? []
        : [
            '--cpu-prof',
            `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/${options.name.replaceAll(/[^\w.-]/g, '_')}`,
          ]),
      options.script,
    ],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: environment },
  );
  return new BenchChild(options.name, child, options.verbose ?? false);
}
