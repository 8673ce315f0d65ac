import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../src/protocol/frames.js';
import { createModelFromSpec } from '../src/providers/create-model-from-spec.js';
import { SqliteEventStore } from '../src/event-log/sqlite-store.js';
import { ParleyMetrics } from '../src/metrics/parley-metrics.js';
import { createParley } from '../src/server/create-parley.js';
import { parseScrape, scrape } from './support/metrics.js';
import { nearlyFullLog } from './support/nearly-full-log.js';
import { describeWithPromtool, probePromtool } from './support/promtool.js';
import { startProviderServer } from './support/provider-server.js';
import { connectClient } from './support/test-client.js';
import { startTestServer, toServerOptions } from './support/test-server.js';

const ADMIN_TOKEN = 'admin-token-0123456789';
const count = (frames: readonly ServerFrame[], type: ServerFrame['type']) =>
  frames.filter((frame) => frame.type === type).length;

describe('GET /metrics', () => {
  it('moves frame, turn, tool, token and log metrics by what a conversation with a tool call did', async () => {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'metrics', 'alice');
    const bob = await connectClient(server.url, 'metrics', 'bob');
    const before = await scrape(server.url);

    alice.send({ type: 'user_message', content: 'What is 5 + 3?' });
    const complete = await alice.waitForType('agent_response_complete');
    await bob.waitForType('agent_response_complete');
    const after = await scrape(server.url);
    const delta = (name: string, labels?: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);

    // Every frame either participant got since the first scrape, counted once per recipient.
    const since = (frames: readonly ServerFrame[]) =>
      frames.slice(frames.findIndex((frame) => frame.type === 'user_message'));
    const received = [...since(alice.frames), ...since(bob.frames)];
    for (const type of [
      'user_message',
      'tool_call',
      'tool_result',
      'agent_response_chunk',
      'agent_response_complete',
    ] as const) {
      expect(delta('parley_frames_sent_total', { type }), type).toBe(count(received, type));
    }
    expect(count(received, 'agent_response_chunk')).toBeGreaterThan(2);
    expect(delta('parley_frames_received_total', { type: 'user_message' })).toBe(1);

    expect(delta('parley_turns_started_total')).toBe(1);
    expect(delta('parley_turns_finished_total', { status: 'completed' })).toBe(1);
    const duration = after.histogram('parley_turn_duration_seconds', { status: 'completed' });
    expect(duration.count).toBe(1);
    expect(duration.sum).toBeGreaterThanOrEqual(0);
    const firstToken = after.histogram('parley_turn_time_to_first_token_seconds');
    expect(firstToken.count).toBe(1);
    expect(firstToken.sum).toBeLessThanOrEqual(duration.sum);

    expect(delta('parley_tool_calls_total', { tool: 'calculator', outcome: 'ok' })).toBe(1);
    expect(after.histogram('parley_tool_call_duration_seconds', { tool: 'calculator' }).count).toBe(
      1,
    );

    const model = { provider: 'offline', model: 'parley-offline-1' };
    expect(delta('parley_model_tokens_total', { ...model, kind: 'input' })).toBe(
      complete.usage.input_tokens,
    );
    expect(delta('parley_model_tokens_total', { ...model, kind: 'output' })).toBe(
      complete.usage.output_tokens,
    );

    // Every entry the log wrote went in some batch: the batches' sizes add up to the store's.
    const entries = await server.engine.log.store.readEntries('metrics');
    const batches = after.histogram('parley_event_log_batch_entries');
    expect(batches.sum).toBe(entries.length);
    expect(after.histogram('parley_event_log_append_seconds').count).toBe(batches.count);
    expect(after.value('parley_event_log_failures_total', { code: 'log_unavailable' })).toBe(0);

    expect(after.value('parley_connections_open')).toBe(2);
    expect(after.value('parley_conversations_live')).toBe(1);
    expect(after.value('parley_worker_pool_running')).toBe(0);
  });

  it('counts a rate-limited message as a refusal', async () => {
    const server = await startTestServer({ rateLimitMessages: 1, rateLimitWindowMs: 60_000 });
    const alice = await connectClient(server.url, 'limits', 'alice');
    alice.send({ type: 'user_message', content: 'hello' });
    alice.send({ type: 'user_message', content: 'hello again' });
    await alice.waitForType('error', (frame) => frame.code === 'rate_limited');
    const after = await scrape(server.url);
    expect(after.value('parley_refusals_total', { code: 'rate_limited' })).toBe(1);
    expect(after.value('parley_frames_received_total', { type: 'user_message' })).toBe(2);
    expect(after.value('parley_frames_sent_total', { type: 'error' })).toBe(1);
  });

  it('counts provider retries and failures by code, and tokens by provider and model', async () => {
    await using provider = await startProviderServer();
    const serverError = {
      kind: 'error',
      status: 500,
      body: { error: { message: 'The server had an error.', type: 'server_error' } },
    } as const;
    const answer = {
      kind: 'stream',
      api: 'chat-completions',
      chunks: 'openai-chat-weather-answer',
    } as const;
    // First turn: one 500, then the answer. Second: 500 three times, past its two retries.
    provider.reply(serverError, answer, serverError, serverError, serverError);
    const model = createModelFromSpec(
      'openai:gpt-4o-mini',
      { OPENAI_API_KEY: 'sk-test-0123456789', OPENAI_BASE_URL: `${provider.origin}/v1` },
      { resilience: { random: () => 0, baseDelayMs: 1 } },
    );
    const server = await startTestServer({ model });
    const alice = await connectClient(server.url, 'provider', 'alice');
    alice.send({ type: 'user_message', content: 'Weather in Paris?' });
    const answered = await alice.waitForType('agent_response_complete');
    alice.send({ type: 'user_message', content: 'And in Oslo?' });
    await alice.waitForType('agent_response_complete', (frame) => frame.status === 'failed');
    const after = await scrape(server.url);
    const labels = { provider: model.provider };
    expect(
      after.value('parley_provider_retries_total', { ...labels, code: 'provider_unavailable' }),
    ).toBe(3);
    expect(
      after.value('parley_provider_errors_total', { ...labels, code: 'provider_unavailable' }),
    ).toBe(1);
    expect(after.value('parley_turns_finished_total', { status: 'completed' })).toBe(1);
    expect(after.value('parley_turns_finished_total', { status: 'failed' })).toBe(1);
    const tokens = { ...labels, model: 'gpt-4o-mini' };
    expect(answered.usage.input_tokens).toBeGreaterThan(0);
    expect(after.value('parley_model_tokens_total', { ...tokens, kind: 'input' })).toBe(
      answered.usage.input_tokens,
    );
    expect(after.value('parley_model_tokens_total', { ...tokens, kind: 'output' })).toBe(
      answered.usage.output_tokens,
    );
  });

  it('is valid Prometheus text with process metrics and no id labels', async () => {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'format', 'alice');
    alice.send({ type: 'user_message', content: 'What is 2 + 2?' });
    await alice.waitForType('agent_response_complete');
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { families } = parseScrape(await response.text());
    const names = families.map((family) => family.name);
    expect(names).toEqual(
      expect.arrayContaining(['process_cpu_user_seconds_total', 'nodejs_eventloop_lag_seconds']),
    );
    for (const family of families) {
      expect(family.help, family.name).not.toBe('');
      for (const metric of family.metrics) {
        const labels = Object.keys(metric.labels ?? {});
        expect(labels, family.name).not.toContain('conversation_id');
        expect(labels, family.name).not.toContain('user_id');
        expect(labels, family.name).not.toContain('connection_id');
      }
    }
    const parley = families.filter((family) => family.name.startsWith('parley_'));
    expect(parley.map((family) => family.type)).toEqual(
      expect.arrayContaining(['COUNTER', 'GAUGE', 'HISTOGRAM']),
    );
    // A histogram's buckets are cumulative and end at +Inf with its count.
    const buckets = families.find((family) => family.name === 'parley_event_log_batch_entries')
      ?.metrics[0];
    const counts = Object.values(buckets?.buckets ?? {}).map(Number);
    expect(counts).toEqual([...counts].sort((left, right) => left - right));
    expect(buckets?.buckets?.['+Inf']).toBe(buckets?.count);
    expect(Number(buckets?.count)).toBeGreaterThan(0);
  });

  it('keeps two servers in one process apart', async () => {
    const first = await startTestServer();
    const second = await startTestServer();
    const alice = await connectClient(first.url, 'apart', 'alice');
    alice.send({ type: 'user_message', content: 'hello' });
    await alice.waitForType('agent_response_complete');
    expect((await scrape(first.url)).value('parley_turns_started_total')).toBe(1);
    expect((await scrape(second.url)).value('parley_turns_started_total')).toBe(0);
    expect((await scrape(second.url)).value('parley_connections_open')).toBe(0);
  });

  it('needs the admin token outside development mode', async () => {
    const server = await startTestServer({
      devMode: false,
      jwtSecret: 'jwt-secret-0123456789abcdef',
      inspectorToken: ADMIN_TOKEN,
    });
    const refused = await fetch(`${server.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'unauthorized' });
    const wrong = await fetch(`${server.url}/metrics`, {
      headers: { authorization: 'Bearer wrong-token-0123456789' },
    });
    expect(wrong.status).toBe(401);
    const text = await wrong.text();
    expect(text).not.toContain(ADMIN_TOKEN);
    expect((await scrape(server.url, ADMIN_TOKEN)).value('parley_connections_open')).toBe(0);
  });

  it('answers an admin JWT (parley_role: admin), and refuses a member JWT', async () => {
    const secret = 'jwt-secret-0123456789abcdef';
    const jwt = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('root')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
    const server = await startTestServer({ devMode: false, jwtSecret: secret });
    const member = await fetch(`${server.url}/metrics`, {
      headers: { authorization: `Bearer ${await jwt({})}` },
    });
    expect(member.status).toBe(401);
    const admin = await fetch(`${server.url}/metrics`, {
      headers: { authorization: `Bearer ${await jwt({ parley_role: 'admin' })}` },
    });
    expect(admin.status).toBe(200);
    expect(await admin.text()).toContain('parley_connections_open');
  });

  it('is refused outside development mode when no admin token is configured', async () => {
    const server = await startTestServer({
      devMode: false,
      jwtSecret: 'jwt-secret-0123456789abcdef',
    });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('PARLEY_INSPECTOR_TOKEN') as string,
    });
  });
});

/**
 * prom-client's default Node.js gauges end in `_total`, which promtool's lint flags; renaming them
 * would break every dashboard built on prom-client's names, so they stay. Parley's own metrics
 * lint clean.
 */
const PROM_CLIENT_LINT_FINDINGS = [
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
];

describeWithPromtool(await probePromtool(), 'GET /metrics read by promtool', (promtool) => {
  /** A scrape after a conversation with a calculator call, so labelled histograms have samples. */
  async function scrapeAfterToolCall(): Promise<string> {
    const server = await startTestServer();
    const alice = await connectClient(server.url, 'promtool', 'alice');
    alice.send({ type: 'user_message', content: 'What is 5 + 3?' });
    await alice.waitForType('tool_result');
    await alice.waitForType('agent_response_complete');
    const text = await (await fetch(`${server.url}/metrics`)).text();
    // The labelled histogram series parse-prometheus-text-format folds away.
    expect(text).toMatch(
      /^parley_tool_call_duration_seconds_bucket\{le="\+Inf",tool="calculator"\} 1$/m,
    );
    return text;
  }

  it("parses with Prometheus's own parser, and lints clean but for prom-client's Node.js gauges", async () => {
    const check = await promtool.checkMetrics(await scrapeAfterToolCall());
    expect(check.errors).toEqual([]);
    expect(check.findings.filter((line) => !PROM_CLIENT_LINT_FINDINGS.includes(line))).toEqual([]);
    // 0 when nothing is flagged, 3 for lint findings only; 1 would be a parse failure.
    expect(check.exitCode).toBe(check.findings.length === 0 ? 0 : 3);
  });

  it('reports a labelled histogram line Prometheus cannot parse', async () => {
    const broken = (await scrapeAfterToolCall()).replace(
      'parley_tool_call_duration_seconds_bucket{le="+Inf",tool="calculator"} 1',
      'parley_tool_call_duration_seconds_bucket{le="+Inf",tool="calculator} 1',
    );
    const check = await promtool.checkMetrics(broken);
    expect(check.exitCode).toBe(1);
    expect(check.errors).toEqual([expect.stringContaining('text format parsing error')]);
  });
});

describe('docs/OPERATIONS.md', () => {
  it('lists every Parley metric with its type and labels', () => {
    const doc = readFileSync(new URL('../docs/OPERATIONS.md', import.meta.url), 'utf8');
    for (const metric of new ParleyMetrics().registry.getMetricsAsArray()) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${metric.name}\``));
      expect(row, metric.name).toBeDefined();
      const cells = (row ?? '').split('|').map((cell) => cell.trim());
      expect(cells[2], `type of ${metric.name}`).toBe(metric.type);
      const labels = (metric as { labelNames?: string[] }).labelNames ?? [];
      expect(cells[3], `labels of ${metric.name}`).toBe(
        labels.map((name) => `\`${name}\``).join(', '),
      );
    }
  });
});

describe('health probes', () => {
  it('answers /health/live and /health/ready with the named checks', async () => {
    const server = await startTestServer();
    const live = await fetch(`${server.url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'live' });
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: [
        { name: 'draining', ok: true },
        { name: 'event_log', ok: true },
      ],
    });
  });

  it('is not ready while a plugged-in check fails, and says why', async () => {
    let clusterUp = true;
    const server = await startTestServer({
      readinessChecks: [
        {
          name: 'cluster',
          check: () => (clusterUp ? { ok: true } : { ok: false, reason: 'redis unreachable' }),
        },
      ],
    });
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    clusterUp = false;
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'not_ready',
      checks: expect.arrayContaining([
        { name: 'cluster', ok: false, reason: 'redis unreachable' },
      ]) as unknown,
    });
    // Liveness does not depend on readiness.
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
  });

  it('is not ready while the disk is full (SQLITE_FULL), and ready again once there is room', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'parley-ready-'));
    try {
      const path = join(directory, 'parley.db');
      const disk = await nearlyFullLog(path);
      const store = SqliteEventStore.open(path, { maxPageCount: disk.maxPageCount });
      const server = await startTestServer({ store, tokenPacingMs: 5 });
      const alice = await connectClient(server.url, 'full', 'alice');
      alice.send({ type: 'user_message', content: 'what can you do?' });
      await alice.waitForType('error', (frame) => frame.code === 'log_unavailable');

      const ready = await fetch(`${server.url}/health/ready`);
      expect(ready.status).toBe(503);
      const report = (await ready.json()) as { checks: { name: string; reason?: string }[] };
      const check = report.checks.find((item) => item.name === 'event_log');
      expect(check?.reason).toMatch(/^the event log cannot write \(\d+ attempts since .*full/);
      expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
      const failures = (await scrape(server.url)).value('parley_event_log_failures_total', {
        code: 'log_unavailable',
      });
      expect(failures).toBeGreaterThan(0);

      disk.makeRoom();
      await alice.waitForType('agent_response_complete');
      expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('is not ready once draining, while still live', async () => {
    const parley = await createParley(
      toServerOptions({ environment: {}, logLevel: 'silent', database: 'memory' }),
    );
    const http = createServer((request, response) => {
      parley.handleRequest(request, response);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      parley.beginShutdown();
      const ready = await fetch(`${url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({
        checks: expect.arrayContaining([
          { name: 'draining', ok: false, reason: 'the server is shutting down' },
        ]) as unknown,
      });
      expect((await fetch(`${url}/health/live`)).status).toBe(200);
      const websocket = await fetch(`${url}/health/ws`);
      expect(websocket.status).toBe(503);
      expect(await websocket.json()).toMatchObject({
        status: 'shutting_down',
        accepting_connections: false,
      });
    } finally {
      http.close();
      await parley.close();
    }
  });

  it('reports /health/ws as full at the connection cap', async () => {
    const server = await startTestServer({ maxConnections: 1 });
    await connectClient(server.url, 'cap', 'alice');
    const response = await fetch(`${server.url}/health/ws`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: 'full',
      accepting_connections: false,
      connections: 1,
      max_connections: 1,
    });
  });
});
