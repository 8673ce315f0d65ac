import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import * as root from '../src/index.js';
import type { ParleyHandler, ParleyOptions } from '../src/server/create-parley.js';
import { startServer } from '../src/server/server.js';
import { connectClient } from './support/test-client.js';
import { createToolCallingModel } from './support/test-models.js';
import { startTestServer } from './support/test-server.js';

const quiet = {
  environment: {},
  config: { port: 0, logLevel: 'silent', database: 'memory' },
} satisfies ParleyOptions;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the root export', () => {
  it('promises only what an application needs', () => {
    const values = Object.keys(root).sort();
    expect(values).toEqual(
      [
        'CLOSE_CODES',
        'CONFIG_VARIABLES',
        'DEFAULT_FORECAST_DAYS',
        'ERROR_CODES',
        'MAX_EXPRESSION_DEPTH',
        'MAX_EXPRESSION_LENGTH',
        'ParleyError',
        'ToolRegistry',
        'attachParley',
        'calculatorTool',
        'createDefaultToolRegistry',
        'createLogger',
        'createModelFromSpec',
        'createOfflineModel',
        'createOfflineWeatherBackend',
        'createParley',
        'createSearchTool',
        'createWeatherTool',
        'datetimeTool',
        'defineJsonSchemaTool',
        'defineTool',
        'evaluateExpression',
        'isJsonSchemaTool',
        'loadConfig',
        'offlineSearchBackend',
        'readConfigFile',
        'offlineWeatherBackend',
        'resilientModel',
        'searchTool',
        'startServer',
        'toParleyError',
        'weatherTool',
      ].sort(),
    );
  });
});

describe('startServer options', () => {
  it('refuses a setting given beside `config` with a TypeError that says where it goes', async () => {
    await expect(startServer({ ...quiet, port: 0 } as never)).rejects.toThrow(
      new TypeError(
        'Unknown option "port": settings go under `config`, e.g. { config: { port: … } }.',
      ),
    );
  });

  it('validates settings from code with the schema of the environment', async () => {
    await expect(
      startServer({ ...quiet, config: { ...quiet.config, turnConcurrency: 0 } }),
    ).rejects.toThrow(
      new RangeError(
        'Invalid configuration: config.turnConcurrency=0: Too small: expected number to be >=1',
      ),
    );
    await expect(
      startServer({ ...quiet, config: { ...quiet.config, nope: 1 } as never }),
    ).rejects.toThrow(TypeError);
  });

  it('refuses a model that is not a model', async () => {
    await expect(startServer({ ...quiet, model: {} as never })).rejects.toThrow(
      new TypeError('Option "model" must be an object with a stream() method.'),
    );
  });

  it('regression: uses the given rate limiter (takeRateToken was silently dropped)', async () => {
    const server = await startTestServer({
      takeRateToken: () => ({ allowed: false, retryAfterMs: 1234 }),
    });
    const alice = await connectClient(server.url, 'limited', 'alice');
    alice.send({ type: 'user_message', content: 'What is 5 + 3?' });
    const error = await alice.waitForType('error');
    expect(error).toMatchObject({ code: 'rate_limited', details: { retry_after_ms: 1234 } });
    expect(alice.frames.some((frame) => frame.type === 'user_message')).toBe(false);
  });

  it('regression: uses the given turn effects (turnEffects was silently dropped)', async () => {
    const model = createToolCallingModel('calculator', { expression: '6 * 7' });
    const turnIds: string[] = [];
    const server = await startTestServer({
      turnEffects: (turnId) => {
        turnIds.push(turnId);
        return {
          model,
          executeTool: () => Promise.resolve({ result: 'from the turn effects' }),
        };
      },
    });
    const alice = await connectClient(server.url, 'effects', 'alice');
    alice.send({ type: 'user_message', content: 'anything' });
    const result = await alice.waitForType('tool_result');
    expect(result.result).toEqual({ result: 'from the turn effects' });
    expect(turnIds).toEqual([result.turn_id]);
  });
});

describe('attachParley', () => {
  async function listen(server: Server): Promise<string> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => {
            resolve();
          });
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const keep = (parley: ParleyHandler) => {
    cleanups.push(() => parley.close());
    return parley;
  };

  it("serves chat on an application's http.Server and leaves its other routes and upgrades alone", async () => {
    const server = createServer((request, response) => {
      if (parley.handleRequest(request, response)) return;
      response.end('the application');
    });
    const other = new WebSocketServer({ noServer: true });
    server.on('upgrade', (request, socket, head) => {
      if (request.url === '/ws/app') {
        other.handleUpgrade(request, socket, head, (ws) => {
          ws.send('the application socket');
        });
      }
    });
    const parley = keep(await root.attachParley(server, quiet));
    const url = await listen(server);

    expect(await (await fetch(`${url}/`)).text()).toBe('the application');
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const appSocket = new WebSocket(`${url.replace('http', 'ws')}/ws/app`);
    const data = await new Promise<string>((resolve) => {
      appSocket.once('message', (message: Buffer) => {
        resolve(message.toString());
      });
    });
    expect(data).toBe('the application socket');
    appSocket.close();

    const alice = await connectClient(url, 'attached', 'alice');
    alice.send({ type: 'user_message', content: 'What is 5 + 3?' });
    const done = await alice.waitForType('agent_response_complete');
    expect(done.content).toBe('5 + 3 = 8.');
    await alice.close();
  });

  it("serves the sockets an application's WebSocketServer accepts, refusing bad ones with 1008", async () => {
    const server = createServer();
    const wss = new WebSocketServer({ server });
    keep(await root.attachParley(wss, quiet));
    const url = await listen(server);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          wss.close(() => {
            resolve();
          });
        }),
    );

    const alice = await connectClient(url, 'accepted', 'alice');
    alice.send({ type: 'user_message', content: 'What is 5 + 3?' });
    expect((await alice.waitForType('agent_response_complete')).content).toBe('5 + 3 = 8.');
    await alice.close();

    const anonymous = new WebSocket(`${url.replace('http', 'ws')}/ws/chat/accepted`);
    const closed = await new Promise<[number, string]>((resolve) => {
      anonymous.once('close', (code, reason) => {
        resolve([code, reason.toString()]);
      });
    });
    expect(closed).toEqual([1008, 'unauthorized']);
  });
});
