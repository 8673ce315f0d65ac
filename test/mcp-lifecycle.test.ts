/**
 * The life of MCP servers around Parley's: stdio children that never outlive it (after
 * `close()`, and after a real Parley process is stopped, killed with SIGKILL or crashes), lazy
 * and eager starts, backoff, HTTP sessions that are dropped or servers that go away, servers that
 * cannot start, and secrets that never show. Over 300 lines because each needs real processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParleyError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { McpTools, type McpConfig, type McpToolsOptions } from '../src/tools/mcp/index.js';
import { ToolRegistry } from '../src/tools/registry.js';
import {
  isRunning,
  parentPid,
  REPOSITORY,
  startHttpFixture,
  stdioFixture,
  toolContext,
  waitForStatus,
  type HttpFixture,
} from './support/mcp-fixtures.js';

const opened: McpTools[] = [];
const fixtures: HttpFixture[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((mcp) => mcp.close()));
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.kill()));
});

function open(config: McpConfig, options: Partial<McpToolsOptions> = {}) {
  const registry = new ToolRegistry();
  const mcp = new McpTools(config, {
    registry,
    backoff: { initialMs: 50, maxMs: 200 },
    // With a logger, stderr goes to it unless told otherwise.
    ...(options.logger === undefined ? { stderr: 'ignore' } : {}),
    ...options,
  });
  opened.push(mcp);
  return { registry, mcp };
}

async function http(options: { token?: string } = {}): Promise<HttpFixture> {
  const fixture = await startHttpFixture(options);
  fixtures.push(fixture);
  return fixture;
}

describe('stdio servers never outlive Parley', () => {
  it('stops a server that ignores SIGTERM and its closed stdin, and its guard, on close()', async () => {
    const { registry, mcp } = open({ servers: { fixture: stdioFixture({ linger: true }) } });
    await mcp.start();
    const server = Number(await registry.execute('fixture__pid', {}, toolContext()));
    const guard = mcp.status()[0]?.pid;
    expect(guard).toEqual(expect.any(Number));
    expect(isRunning(server)).toBe(true);

    await mcp.close();
    expect(isRunning(server)).toBe(false);
    expect(isRunning(guard ?? 0)).toBe(false);
    expect(mcp.status()[0]).not.toHaveProperty('pid');
  });

  it('stops the server when the Parley process is killed with SIGKILL', async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/mcp/parent.ts'], {
      cwd: REPOSITORY,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: parent.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    const { guard, server } = JSON.parse(line) as { guard: number; server: number };
    expect(isRunning(guard)).toBe(true);
    expect(isRunning(server)).toBe(true);

    const exited = once(parent, 'exit');
    parent.kill('SIGKILL');
    await exited;
    // Nothing signals this test when an orphan dies, so it looks until a deadline.
    await vi.waitFor(
      () => {
        expect({ guard: isRunning(guard), server: isRunning(server) }).toEqual({
          guard: false,
          server: false,
        });
      },
      { timeout: 10_000, interval: 100 },
    );
  });
});

/** Starts the Parley server process of test/fixtures/mcp/parley-server.ts. */
async function parleyProcess() {
  const parley = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/fixtures/mcp/parley-server.ts'],
    { cwd: REPOSITORY, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  parleys.push(parley);
  const lines = createInterface({ input: parley.stdout });
  const [line] = (await once(lines, 'line')) as [string];
  const { url, server } = JSON.parse(line) as { url: string; server: number };
  const guard = parentPid(server);
  expect(isRunning(guard)).toBe(true);
  expect(isRunning(server)).toBe(true);
  return { parley, url, server, guard };
}

const parleys: ChildProcess[] = [];
afterEach(() => {
  for (const parley of parleys.splice(0)) {
    if (parley.exitCode === null && parley.signalCode === null) parley.kill('SIGKILL');
  }
});

describe('stdio servers never outlive a Parley server process', () => {
  it('are gone when `startServer` closes on SIGTERM, before the process exits', async () => {
    const { parley, url, server, guard } = await parleyProcess();
    const health = (await (await fetch(`${url}/health`)).json()) as { mcp_servers: unknown[] };
    expect(health.mcp_servers).toMatchObject([{ name: 'fixture', state: 'ready' }]);

    const exited = once(parley, 'exit');
    parley.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    expect({ guard: isRunning(guard), server: isRunning(server) }).toEqual({
      guard: false,
      server: false,
    });
  });

  it.each([
    ['killed with SIGKILL', (parley: ChildProcess) => parley.kill('SIGKILL'), [null, 'SIGKILL']],
    [
      'dead of an uncaught exception',
      (parley: ChildProcess) => parley.stdin?.write('crash\n'),
      [1, null],
    ],
  ])('are gone soon after the process is %s', async (_how, end, exit) => {
    const { parley, server, guard } = await parleyProcess();
    const exited = once(parley, 'exit');
    end(parley);
    expect(await exited).toEqual(exit);
    // Nothing signals this test when an orphan dies, so it looks until a deadline.
    await vi.waitFor(
      () => {
        expect({ guard: isRunning(guard), server: isRunning(server) }).toEqual({
          guard: false,
          server: false,
        });
      },
      { timeout: 10_000, interval: 100 },
    );
  });
});

describe('starting servers', () => {
  it('starts eager servers on start() and lazy ones only on ready()', async () => {
    const { registry, mcp } = open({
      servers: { now: stdioFixture(), later: stdioFixture({ extra: { startup: 'lazy' } }) },
    });
    expect(mcp.status().map((status) => [status.name, status.state])).toEqual([
      ['now', 'idle'],
      ['later', 'idle'],
    ]);
    await mcp.start();
    expect(mcp.status().map((status) => [status.name, status.state])).toEqual([
      ['now', 'ready'],
      ['later', 'idle'],
    ]);
    expect(registry.has('now__echo')).toBe(true);
    expect(registry.has('later__echo')).toBe(false);

    await mcp.ready();
    expect(mcp.status().map((status) => [status.name, status.state])).toEqual([
      ['now', 'ready'],
      ['later', 'ready'],
    ]);
    await expect(registry.execute('later__echo', { text: 'hi' }, toolContext())).resolves.toBe(
      'hi',
    );
  });

  it('says why a stdio command cannot start, and keeps trying', async () => {
    const { mcp } = open({ servers: { ghost: { command: 'parley-no-such-command' } } });
    await mcp.start();
    const status = await waitForStatus(mcp, 'ghost', (s) => s.failedAttempts >= 2);
    expect(status.state).toBe('reconnecting');
    expect(status.lastError).toMatch(
      /last stderr line: parley stdio guard: cannot start "parley-no-such-command": spawn parley-no-such-command ENOENT$/,
    );
    expect(status.tools).toEqual([]);
  });
});

describe('reconnecting', () => {
  it('waits longer after each failed attempt, doubling up to maxMs', async () => {
    const { mcp } = open(
      { servers: { ghost: { command: 'parley-no-such-command' } } },
      { backoff: { initialMs: 50, maxMs: 200, factor: 2 }, random: () => 1, now: () => 0 },
    );
    const delays = new Map<number, number>();
    mcp.subscribe((status) => {
      if (status.nextAttemptAt !== undefined)
        delays.set(status.failedAttempts, status.nextAttemptAt);
    });
    await mcp.start();
    await waitForStatus(mcp, 'ghost', (s) => s.failedAttempts >= 4);
    // `now` is 0, so each next attempt's time is its delay (no jitter taken off with random 1).
    expect([1, 2, 3, 4].map((failures) => delays.get(failures))).toEqual([50, 100, 200, 200]);
  });
});

describe('Streamable HTTP sessions', () => {
  it('opens a new session when the server drops the old one (404)', async () => {
    const fixture = await http();
    const { registry, mcp } = open({ servers: { fixture: { url: fixture.url } } });
    await mcp.start();
    await registry.execute('fixture__drop_session', {}, toolContext());

    const error = await registry
      .execute('fixture__echo', { text: 'x' }, toolContext())
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'tool_unavailable' });
    expect((error as Error).message).toContain('Session not found');

    await waitForStatus(mcp, 'fixture', (s) => s.state === 'ready');
    await expect(registry.execute('fixture__echo', { text: 'y' }, toolContext())).resolves.toBe(
      'y',
    );
  });

  it('notices a server that went away without a call, and reconnects when it is back', async () => {
    const fixture = await http();
    const { registry, mcp } = open({ servers: { fixture: { url: fixture.url } } });
    await mcp.start();
    await fixture.kill();
    // The SSE stream of server notifications breaks; a ping confirms the server is gone.
    const lost = await waitForStatus(mcp, 'fixture', (s) => s.state === 'reconnecting');
    expect(lost.lastError).toMatch(/fetch failed|terminated/);

    await fixture.restart();
    await waitForStatus(mcp, 'fixture', (s) => s.state === 'ready');
    await expect(registry.execute('fixture__echo', { text: 'z' }, toolContext())).resolves.toBe(
      'z',
    );
  });
});

describe('secrets', () => {
  const stdioSecret = 'stdio-secret-7f3a9c';
  const httpToken = 'http-token-51d2e8b0';

  function capturingLogger() {
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    return { logger: createLogger('trace', output), text: () => text };
  }

  it('passes env to a stdio server but never shows its values', async () => {
    const logged = capturingLogger();
    const { registry, mcp } = open(
      {
        servers: {
          fixture: stdioFixture({ extra: { env: { FIXTURE_SECRET: stdioSecret } } }),
          leaky: {
            command: process.execPath,
            args: [
              '-e',
              'console.error("my secret is " + process.env.FIXTURE_SECRET); process.exit(1)',
            ],
            env: { FIXTURE_SECRET: stdioSecret },
          },
        },
      },
      { logger: logged.logger },
    );
    await mcp.start();
    await expect(
      registry.execute('fixture__env', { name: 'FIXTURE_SECRET' }, toolContext()),
    ).resolves.toBe(stdioSecret);
    const leaky = await waitForStatus(mcp, 'leaky', (s) => s.failedAttempts >= 1);
    expect(leaky.lastError).toContain('last stderr line: my secret is [redacted]');
    expect(JSON.stringify(mcp.status())).not.toContain(stdioSecret);
    expect(logged.text()).toContain('my secret is [redacted]');
    expect(logged.text()).not.toContain(stdioSecret);
  });

  it('sends headers to an HTTP server but never shows their values, even when it echoes them', async () => {
    const fixture = await http({ token: httpToken });
    const logged = capturingLogger();
    const { registry, mcp } = open(
      {
        servers: {
          good: { url: fixture.url, headers: { authorization: `Bearer ${httpToken}` } },
          bad: { url: fixture.url, headers: { authorization: 'Bearer wrong-token-0c4e2a' } },
        },
      },
      { logger: logged.logger },
    );
    await mcp.start();
    await expect(registry.execute('good__echo', { text: 'in' }, toolContext())).resolves.toBe('in');
    const bad = mcp.status()[1];
    expect(bad).toMatchObject({ name: 'bad', state: 'reconnecting' });
    // The fixture answers 401 repeating the Authorization header it got.
    expect(bad?.lastError).toBe('Error POSTing to endpoint: Unauthorized: got "[redacted]"');
    const shown = JSON.stringify(mcp.status()) + logged.text();
    expect(shown).not.toContain(httpToken);
    expect(shown).not.toContain('wrong-token-0c4e2a');
  });
});
