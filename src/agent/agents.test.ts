import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParleyError } from '../errors.js';
import { defaultAgent, loadAgentsFile, parseAgents, resolveAgents } from './agents.js';

const support = {
  id: 'support',
  model: 'openai:gpt-4o-mini',
  systemPrompt: 'You answer questions about Parley.',
  tools: ['search', 'datetime'],
  temperature: 0.3,
  maxOutputTokens: 800,
  maxSteps: 4,
  toolTimeoutMs: 5_000,
};
const local = { id: 'local', model: 'openai-compatible:llama3.2:1b', tools: [] };

function configurationError(message: string): ParleyError {
  return new ParleyError('internal_error', `Invalid configuration: ${message}`);
}

describe('parseAgents', () => {
  it('accepts agents with every option, and keeps an mcp field as written', () => {
    const mcp = {
      servers: {
        files: { command: 'npx', args: ['-y', 'some-mcp-server'], needsApproval: ['write'] },
        crm: { url: 'https://crm.example.com/mcp', startup: 'lazy' as const },
      },
    };
    expect(parseAgents({ agents: [support, { ...local, mcp }] }, 'agents.json')).toEqual([
      support,
      { ...local, mcp },
    ]);
  });

  it.each([
    [{ agents: [] }, 'agents: Too small: expected array to have >=1 items'],
    [
      { agents: [{ ...support, model: 'gpt-4o' }] },
      'agents[0].model: expected offline, openai:<model>, anthropic:<model> or openai-compatible:<model> (for example openai:gpt-4o-mini)',
    ],
    [
      { agents: [support, { ...local, id: 'has space' }] },
      'agents[1].id: expected 1-64 letters, digits, _ or -, starting with a letter or digit',
    ],
    [
      { agents: [{ ...support, temperature: 3 }] },
      'agents[0].temperature: Too big: expected number to be <=2',
    ],
    [
      { agents: [{ ...support, maxSteps: 1.5 }] },
      'agents[0].maxSteps: Invalid input: expected int, received number',
    ],
    [
      { agents: [{ ...support, system_prompt: 'typo' }] },
      'agents[0]: Unrecognized key: "system_prompt"',
    ],
    [
      { agents: [support, { ...local, id: 'support' }] },
      'agents[1].id: duplicate agent id "support"',
    ],
    [
      { agents: [{ ...support, mcp: { servers: { files: { command: 'x', headers: {} } } } }] },
      'agents[0].mcp.servers.files.headers: Only a Streamable HTTP server (`url`) takes `headers`',
    ],
    [
      { agents: [{ ...support, mcp: { servers: { 'My Files': { command: 'x' } } } }] },
      'agents[0].mcp.servers.My Files: Expected lower-case words joined by single underscores',
    ],
  ])('refuses %j naming the file and the field', (json, message) => {
    expect(() => parseAgents(json, 'PARLEY_AGENTS_FILE agents.json')).toThrow(
      configurationError(`PARLEY_AGENTS_FILE agents.json: ${message}`),
    );
  });

  it('refuses a tool that is not registered, listing those that are', () => {
    expect(() =>
      parseAgents({ agents: [{ ...support, tools: ['search', 'wether'] }] }, 'agents.json', {
        toolNames: ['calculator', 'datetime', 'search', 'weather'],
      }),
    ).toThrow(
      configurationError(
        'agents.json: agents[0].tools[1]: unknown tool "wether": expected one of calculator, datetime, search, weather',
      ),
    );
  });
});

describe('loadAgentsFile and resolveAgents', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'parley-agents-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function file(content: string): Promise<string> {
    const path = join(directory, 'agents.json');
    await writeFile(path, content);
    return path;
  }

  it('loads a file and names its path in errors', async () => {
    const path = await file(JSON.stringify({ agents: [support] }));
    expect(await loadAgentsFile(path)).toEqual([support]);

    const broken = await file('{ "agents": [ ');
    await expect(loadAgentsFile(broken)).rejects.toThrow(
      new RegExp(`^Invalid configuration: PARLEY_AGENTS_FILE ${broken}: is not JSON \\(`),
    );
    const missing = join(directory, 'missing.json');
    await expect(loadAgentsFile(missing)).rejects.toThrow(
      configurationError(`PARLEY_AGENTS_FILE ${missing}: cannot be read (ENOENT)`),
    );
  });

  it('defines the one agent default from PARLEY_MODEL alone, offline when unset', async () => {
    expect(await resolveAgents({ PARLEY_MODEL: 'anthropic:claude-sonnet-4-5' })).toEqual([
      { id: 'default', model: 'anthropic:claude-sonnet-4-5' },
    ]);
    expect(await resolveAgents({})).toEqual([{ id: 'default', model: 'offline' }]);
  });

  it('refuses an invalid PARLEY_MODEL', async () => {
    await expect(resolveAgents({ PARLEY_MODEL: 'llama3' })).rejects.toThrow(
      configurationError(
        'PARLEY_MODEL: expected offline, openai:<model>, anthropic:<model> or openai-compatible:<model> (for example openai:gpt-4o-mini)',
      ),
    );
  });

  it('adds default from PARLEY_MODEL to the file agents unless the file defines it', async () => {
    const path = await file(JSON.stringify({ agents: [support, local] }));
    const both = await resolveAgents({ PARLEY_AGENTS_FILE: path, PARLEY_MODEL: 'offline' });
    expect(both.map((agent) => agent.id)).toEqual(['support', 'local', 'default']);
    expect(defaultAgent(both).model).toBe('offline');

    const fileOnly = await resolveAgents({ PARLEY_AGENTS_FILE: path });
    expect(fileOnly.map((agent) => agent.id)).toEqual(['support', 'local']);
    expect(defaultAgent(fileOnly).id).toBe('support');

    const withDefault = await file(JSON.stringify({ agents: [{ ...local, id: 'default' }] }));
    expect(
      await resolveAgents({ PARLEY_AGENTS_FILE: withDefault, PARLEY_MODEL: 'offline' }),
    ).toEqual([{ ...local, id: 'default' }]);
  });
});
