import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ParleyError } from '../errors.js';
import { calculatorTool } from './calculator.js';
import { createDefaultToolRegistry, ToolRegistry } from './registry.js';
import { defineJsonSchemaTool, defineTool, type ToolExecutionContext } from './tool.js';
import type { WeatherBackend } from './weather.js';

function contextWith(signal = new AbortController().signal): ToolExecutionContext {
  return { signal, now: () => Date.UTC(2024, 6, 1, 12, 0, 0) };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
}

const echoTool = defineTool({
  name: 'echo',
  description: 'Repeats its input.',
  parameters: z.object({ text: z.string(), times: z.number().int().min(1).default(1) }),
  execute: ({ text, times }) => ({ text: text.repeat(times) }),
});

/** A tool that never finishes on its own; `started` resolves once it waits for its signal. */
function waitForAbortTool() {
  let markStarted = (): void => undefined;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const runs: string[] = [];
  const tool = defineTool({
    name: 'wait_for_abort',
    description: 'Never finishes on its own.',
    parameters: z.object({}),
    execute: (_parameters, { signal }) =>
      new Promise<never>((_resolve, reject) => {
        runs.push('started');
        signal.addEventListener('abort', () => {
          reject(new Error('stopped'));
        });
        markStarted();
      }),
  });
  return { tool, started, runs };
}

describe('ToolRegistry', () => {
  it('registers tools and looks them up by name, in registration order', () => {
    const registry = new ToolRegistry([calculatorTool]).register(echoTool);
    expect(registry.has('echo')).toBe(true);
    expect(registry.has('missing')).toBe(false);
    expect(registry.get('echo')).toBe(echoTool);
    expect(registry.get('missing')).toBeUndefined();
    expect(registry.list().map((tool) => tool.name)).toEqual(['calculator', 'echo']);
  });

  it('rejects a duplicate name', () => {
    const registry = new ToolRegistry([echoTool]);
    expect(() => registry.register(echoTool)).toThrow('A tool named "echo" is already registered');
  });

  it.each(['', 'Echo', '1tool', 'my-tool', 'a'.repeat(65)])('rejects the name %j', (name) => {
    expect(() => new ToolRegistry([{ ...echoTool, name }])).toThrow(
      `Tool name "${name}" is invalid: expected 1-64 characters of a-z, 0-9 and _, starting with a letter`,
    );
  });

  it('accepts a 64-character snake_case name', () => {
    const name = `t_${'x'.repeat(62)}`;
    expect(new ToolRegistry([{ ...echoTool, name }]).has(name)).toBe(true);
  });

  it('describes each tool with the JSON Schema of its parameters', () => {
    const [description] = new ToolRegistry([echoTool]).describe();
    expect(description).toEqual({
      name: 'echo',
      description: 'Repeats its input.',
      inputSchema: {
        type: 'object',
        properties: {
          text: { type: 'string' },
          times: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, default: 1 },
        },
        // `times` has a default, so the model may leave it out.
        required: ['text'],
      },
    });
  });

  it('computes each description once', () => {
    const registry = new ToolRegistry([calculatorTool, echoTool]);
    const first = registry.describe();
    const second = registry.describe();
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toBe(first[1]);
  });

  it('runs a tool with its validated, defaulted arguments', async () => {
    const registry = new ToolRegistry([echoTool]);
    await expect(
      registry.execute('echo', { text: 'ab', times: 2 }, contextWith()),
    ).resolves.toEqual({ text: 'abab' });
    await expect(registry.execute('echo', { text: 'ab' }, contextWith())).resolves.toEqual({
      text: 'ab',
    });
  });

  it('rejects an unknown tool with unknown_tool, listing the available ones', async () => {
    const registry = new ToolRegistry([calculatorTool, echoTool]);
    const error = await rejectionOf(registry.execute('weather', {}, contextWith()));
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({
      code: 'unknown_tool',
      message: 'Unknown tool "weather"; available: calculator, echo',
    });
  });

  it('says when no tool is registered at all', async () => {
    await expect(new ToolRegistry().execute('echo', {}, contextWith())).rejects.toThrow(
      'Unknown tool "echo"; available: (none)',
    );
  });

  it('rejects invalid arguments with invalid_tool_arguments, naming each field path', async () => {
    const registry = new ToolRegistry([echoTool]);
    const error = await rejectionOf(
      registry.execute('echo', { text: 42, times: 0 }, contextWith()),
    );
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({
      code: 'invalid_tool_arguments',
      message:
        'Invalid arguments for tool "echo": text: Invalid input: expected string, received number; times: Too small: expected number to be >=1',
      issues: [
        {
          path: 'text',
          message: 'Invalid input: expected string, received number',
          expected: 'string',
        },
        { path: 'times', message: 'Too small: expected number to be >=1', expected: 'at least 1' },
      ],
    });
  });

  it('reports arguments that are not an object at the root path', async () => {
    const error = await rejectionOf(
      new ToolRegistry([echoTool]).execute('echo', null, contextWith()),
    );
    expect(error).toMatchObject({
      code: 'invalid_tool_arguments',
      message:
        'Invalid arguments for tool "echo": (arguments): Invalid input: expected object, received null',
      issues: [{ path: '', expected: 'object' }],
    });
  });

  it('names the nested path of a field inside an array', async () => {
    const listTool = defineTool({
      name: 'sum',
      description: 'Adds numbers.',
      parameters: z.object({ items: z.array(z.object({ value: z.number() })) }),
      execute: ({ items }) => items.reduce((total, item) => total + item.value, 0),
    });
    const error = await rejectionOf(
      new ToolRegistry([listTool]).execute(
        'sum',
        { items: [{ value: 1 }, { value: 'x' }] },
        contextWith(),
      ),
    );
    expect(error).toMatchObject({ issues: [{ path: 'items.1.value', expected: 'number' }] });
  });

  it('turns a thrown error into tool_failed and keeps it as the cause', async () => {
    const cause = new TypeError('backend exploded');
    const failing = defineTool({
      name: 'failing',
      description: 'Always fails.',
      parameters: z.object({}),
      execute: () => {
        throw cause;
      },
    });
    const error = await rejectionOf(
      new ToolRegistry([failing]).execute('failing', {}, contextWith()),
    );
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'tool_failed', message: 'backend exploded', cause });
  });

  it('passes a ParleyError thrown by a tool through unchanged', async () => {
    const error = await rejectionOf(
      new ToolRegistry([calculatorTool]).execute(
        'calculator',
        { operation: 'divide', a: 1, b: 0 },
        contextWith(),
      ),
    );
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'tool_failed', message: 'Division by zero' });
  });

  it('rejects with the abort reason untouched when the signal aborts while the tool runs', async () => {
    const controller = new AbortController();
    const { tool, started } = waitForAbortTool();
    const registry = new ToolRegistry([tool]);
    const pending = rejectionOf(
      registry.execute('wait_for_abort', {}, contextWith(controller.signal)),
    );
    await started;
    const reason = new ParleyError(
      'tool_timeout',
      'Tool "wait_for_abort" timed out after 10000 ms',
    );
    controller.abort(reason);
    await expect(pending).resolves.toBe(reason);
  });

  it('does not start a tool whose signal aborted before it could run', async () => {
    const controller = new AbortController();
    const reason = new Error('turn cancelled');
    controller.abort(reason);
    const { tool, runs } = waitForAbortTool();
    const registry = new ToolRegistry([tool]);
    await expect(
      registry.execute('wait_for_abort', {}, contextWith(controller.signal)),
    ).rejects.toBe(reason);
    expect(runs).toEqual([]);
  });

  it('hands the tool the same signal it was given', async () => {
    const seen: AbortSignal[] = [];
    const spy = defineTool({
      name: 'spy',
      description: 'Records its signal.',
      parameters: z.object({}),
      execute: (_parameters, { signal }) => {
        seen.push(signal);
        return 'ok';
      },
    });
    const signal = new AbortController().signal;
    await new ToolRegistry([spy]).execute('spy', {}, contextWith(signal));
    expect(seen).toEqual([signal]);
  });
});

describe('createDefaultToolRegistry', () => {
  it('registers calculator, datetime, weather and search', () => {
    const registry = createDefaultToolRegistry();
    expect(registry.list().map((tool) => tool.name)).toEqual([
      'calculator',
      'datetime',
      'weather',
      'search',
    ]);
  });

  it('describes every built-in tool as an object schema with properties', () => {
    for (const description of createDefaultToolRegistry().describe()) {
      expect(description.description.length).toBeGreaterThan(10);
      expect(description.inputSchema).toMatchObject({ type: 'object' });
      expect(description.inputSchema).not.toHaveProperty('$schema');
      expect(Object.keys(description.inputSchema.properties as object).length).toBeGreaterThan(0);
    }
  });

  it('answers the offline model calculator call with result 8', async () => {
    await expect(
      createDefaultToolRegistry().execute(
        'calculator',
        { operation: 'evaluate', expression: '5 + 3' },
        contextWith(),
      ),
    ).resolves.toEqual({ expression: '5 + 3', result: 8 });
  });

  it('reads the injected clock for datetime now', async () => {
    await expect(
      createDefaultToolRegistry().execute('datetime', { operation: 'now' }, contextWith()),
    ).resolves.toMatchObject({ iso: '2024-07-01T12:00:00Z' });
  });

  it('uses the weather backend it is given', async () => {
    const weather: WeatherBackend = {
      current: (location, units) =>
        Promise.resolve({
          location,
          temperature: 21,
          units,
          condition: 'clear',
          humidity: 50,
          wind_kph: 3,
          source: 'stub',
        }),
    };
    await expect(
      createDefaultToolRegistry({ weather }).execute(
        'weather',
        { location: 'Oslo' },
        contextWith(),
      ),
    ).resolves.toMatchObject({ location: 'Oslo', units: 'metric', source: 'stub' });
  });
});

describe('ToolRegistry with JSON Schema tools', () => {
  const inputSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: { path: { type: 'string', minLength: 1 } },
    required: ['path'],
  };

  function readTool(name = 'files__read-File') {
    const seen: Record<string, unknown>[] = [];
    const tool = defineJsonSchemaTool({
      name,
      description: 'Reads a file.',
      inputSchema,
      execute: (parameters) => {
        seen.push(parameters);
        return { read: parameters.path };
      },
    });
    return { tool, seen };
  }

  it('describes a JSON Schema tool with its schema unchanged, $schema included', () => {
    const { tool } = readTool();
    const [description] = new ToolRegistry([tool]).describe();
    expect(description).toEqual({
      name: 'files__read-File',
      description: 'Reads a file.',
      inputSchema,
    });
    expect(description?.inputSchema).toBe(inputSchema);
  });

  it('accepts capitals and - in a JSON Schema tool name, and nothing else beyond snake_case', () => {
    expect(new ToolRegistry([readTool('Files__read-file').tool]).has('Files__read-file')).toBe(
      true,
    );
    for (const name of ['', '1files', '-files', 'files.read', 'files/read', 'a'.repeat(65)]) {
      expect(() => new ToolRegistry([readTool(name).tool])).toThrow(
        `Tool name "${name}" is invalid: expected 1-64 characters of A-Z, a-z, 0-9, _ and -, starting with a letter`,
      );
    }
  });

  it('hands a JSON Schema tool its arguments unchanged, without validating them', async () => {
    const { tool, seen } = readTool();
    const registry = new ToolRegistry([tool]);
    const input = { path: '', extra: [1, 2] };
    await expect(registry.execute('files__read-File', input, contextWith())).resolves.toEqual({
      read: '',
    });
    expect(seen).toEqual([input]);
  });

  it.each([
    [null, 'null'],
    [[1], 'array'],
    ['text', 'string'],
  ])('refuses %j as the arguments of a JSON Schema tool', async (input, received) => {
    const { tool, seen } = readTool();
    const error = await rejectionOf(
      new ToolRegistry([tool]).execute('files__read-File', input, contextWith()),
    );
    expect(error).toMatchObject({
      code: 'invalid_tool_arguments',
      message: `Invalid arguments for tool "files__read-File": (arguments): Invalid input: expected object, received ${received}`,
      issues: [{ path: '', expected: 'object' }],
    });
    expect(seen).toEqual([]);
  });

  it('passes a ParleyError thrown by a JSON Schema tool through unchanged', async () => {
    const unavailable = new ParleyError('tool_unavailable', 'MCP server "files" is reconnecting');
    const tool = defineJsonSchemaTool({
      name: 'files__read',
      description: 'Reads a file.',
      inputSchema,
      execute: () => {
        throw unavailable;
      },
    });
    await expect(new ToolRegistry([tool]).execute('files__read', {}, contextWith())).rejects.toBe(
      unavailable,
    );
  });

  it('unregisters a tool: it leaves the list and the descriptions, and calls find it unknown', async () => {
    const registry = new ToolRegistry([echoTool, readTool().tool]);
    expect(registry.unregister('files__read-File')).toBe(true);
    expect(registry.unregister('files__read-File')).toBe(false);
    expect(registry.list().map((tool) => tool.name)).toEqual(['echo']);
    expect(registry.describe().map((description) => description.name)).toEqual(['echo']);
    await expect(registry.execute('files__read-File', {}, contextWith())).rejects.toThrow(
      'Unknown tool "files__read-File"; available: echo',
    );
  });

  it('describes a tool registered again under the same name from its new schema', () => {
    const registry = new ToolRegistry([readTool().tool]);
    const before = registry.describe()[0];
    registry.unregister('files__read-File');
    const changedSchema = { type: 'object', properties: {} };
    registry.register({ ...readTool().tool, inputSchema: changedSchema });
    const after = registry.describe()[0];
    expect(before?.inputSchema).toBe(inputSchema);
    expect(after?.inputSchema).toBe(changedSchema);
  });

  it('carries needsApproval, absent unless a tool sets it', () => {
    const registry = new ToolRegistry([echoTool, { ...readTool().tool, needsApproval: true }]);
    expect(registry.get('echo')?.needsApproval).toBeUndefined();
    expect(registry.get('files__read-File')?.needsApproval).toBe(true);
  });

  it('waits in ready() for every source with a pending start, and answers undefined when none has one', async () => {
    const registry = new ToolRegistry();
    expect(registry.ready()).toBeUndefined();
    let finish!: () => void;
    const starting = new Promise<void>((resolve) => (finish = resolve));
    let started = false;
    const lazy = { ready: () => (started ? undefined : starting) };
    const settled = { ready: () => undefined };
    registry.addSource(lazy).addSource(settled);
    let done = false;
    const ready = registry.ready();
    expect(ready).toBeInstanceOf(Promise);
    void ready?.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    started = true;
    finish();
    await ready;
    expect(done).toBe(true);
    expect(registry.ready()).toBeUndefined();
    expect(registry.removeSource(lazy)).toBe(true);
    expect(registry.removeSource(lazy)).toBe(false);
  });
});
