import { describe, expect, it } from 'vitest';
import { ToolRegistry } from '../registry.js';
import { mcpConfigSchema } from './mcp-config.js';
import { McpTools } from './mcp-tools.js';

function issuesOf(config: unknown): { path: string; message: string }[] {
  const result = mcpConfigSchema.safeParse(config);
  return (result.error?.issues ?? []).map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

describe('mcpConfigSchema', () => {
  it('reads a stdio server and applies the defaults', () => {
    expect(
      mcpConfigSchema.parse({ servers: { files: { command: 'mcp-files', args: ['/data'] } } }),
    ).toEqual({
      servers: {
        files: {
          transport: 'stdio',
          command: 'mcp-files',
          args: ['/data'],
          env: {},
          needsApproval: false,
          startup: 'eager',
        },
      },
    });
  });

  it('reads a Streamable HTTP server with its allow-list, approvals and lazy start', () => {
    expect(
      mcpConfigSchema.parse({
        servers: {
          crm: {
            url: 'https://crm.example.com/mcp',
            headers: { authorization: 'Bearer t' },
            tools: ['find_contact', 'update_contact'],
            needsApproval: ['update_contact'],
            startup: 'lazy',
          },
        },
      }),
    ).toEqual({
      servers: {
        crm: {
          transport: 'http',
          url: 'https://crm.example.com/mcp',
          headers: { authorization: 'Bearer t' },
          tools: ['find_contact', 'update_contact'],
          needsApproval: ['update_contact'],
          startup: 'lazy',
        },
      },
    });
  });

  it('wants exactly one of command and url', () => {
    const expected = [
      {
        path: 'servers.x',
        message: 'Expected exactly one of `command` (a stdio server) or `url` (Streamable HTTP)',
      },
    ];
    expect(issuesOf({ servers: { x: {} } })).toEqual(expected);
    expect(issuesOf({ servers: { x: { command: 'a', url: 'http://127.0.0.1/mcp' } } })).toEqual(
      expected,
    );
  });

  it('names a field that belongs to the other transport', () => {
    expect(issuesOf({ servers: { x: { command: 'a', headers: { a: 'b' } } } })).toEqual([
      {
        path: 'servers.x.headers',
        message: 'Only a Streamable HTTP server (`url`) takes `headers`',
      },
    ]);
    expect(issuesOf({ servers: { x: { url: 'http://127.0.0.1/mcp', cwd: '/tmp' } } })).toEqual([
      { path: 'servers.x.cwd', message: 'Only a stdio server (`command`) takes `cwd`' },
    ]);
  });

  it.each(['Files', 'my-files', 'files__2', 'files_', '_files', 'x'.repeat(33)])(
    'refuses the server name %j',
    (name) => {
      expect(issuesOf({ servers: { [name]: { command: 'a' } } })).toEqual([
        expect.objectContaining({ path: `servers.${name}` }),
      ]);
    },
  );

  it('refuses a URL that is not http or https, unknown fields and an empty allow-list', () => {
    expect(issuesOf({ servers: { x: { url: 'ftp://example.com/mcp' } } })).toEqual([
      expect.objectContaining({ path: 'servers.x.url' }),
    ]);
    expect(issuesOf({ servers: { x: { command: 'a', timeout: 5 } } })).toEqual([
      expect.objectContaining({ path: 'servers.x', message: 'Unrecognized key: "timeout"' }),
    ]);
    expect(issuesOf({ servers: { x: { command: 'a', tools: [] } } })).toEqual([
      expect.objectContaining({ path: 'servers.x.tools' }),
    ]);
  });
});

describe('McpTools options', () => {
  const registry = new ToolRegistry();

  it('throws a TypeError naming each bad field of the configuration', () => {
    expect(
      () =>
        new McpTools({ servers: { x: { command: 'a', startup: 'soon' } } } as never, { registry }),
    ).toThrow(
      new TypeError(
        'Invalid MCP configuration: mcp.servers.x.startup: Invalid option: expected one of "eager"|"lazy"',
      ),
    );
  });

  it('throws a RangeError for a timeout that is not a positive number', () => {
    expect(() => new McpTools({ servers: {} }, { registry, toolTimeoutMs: 0 })).toThrow(
      new RangeError('toolTimeoutMs must be a positive number of milliseconds, got 0'),
    );
    expect(() => new McpTools({ servers: {} }, { registry, backoff: { factor: 0.5 } })).toThrow(
      new RangeError('backoff.factor must be at least 1'),
    );
  });

  it('reports every configured server as idle before start, without secrets or commands', () => {
    const mcp = new McpTools(
      {
        servers: {
          files: { command: 'mcp-files', env: { TOKEN: 'secret-env-value' } },
          crm: { url: 'https://crm.example.com/mcp', headers: { authorization: 'Bearer x' } },
        },
      },
      { registry },
    );
    expect(mcp.status()).toEqual([
      {
        name: 'files',
        transport: 'stdio',
        startup: 'eager',
        state: 'idle',
        failedAttempts: 0,
        tools: [],
        skippedTools: [],
        missingTools: [],
      },
      {
        name: 'crm',
        transport: 'http',
        startup: 'eager',
        state: 'idle',
        failedAttempts: 0,
        tools: [],
        skippedTools: [],
        missingTools: [],
      },
    ]);
  });
});
