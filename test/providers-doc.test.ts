import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAgents } from '../src/agent/agents.js';
import { ERROR_CODES } from '../src/errors.js';
import { PROVIDER_VARIABLES } from '../src/providers/create-model-from-spec.js';

// docs/PROVIDERS.md is what an operator configures real models from: these checks keep it in
// step with the variables the code reads, the provider error codes and the agents file schema.
const doc = readFileSync(new URL('../docs/PROVIDERS.md', import.meta.url), 'utf8');

describe('docs/PROVIDERS.md', () => {
  it('documents every provider variable', () => {
    const missing = Object.keys(PROVIDER_VARIABLES).filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('documents every provider error code', () => {
    const codes = Object.keys(ERROR_CODES).filter((code) => code.startsWith('provider_'));
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.filter((code) => !doc.includes(`| \`${code}\``))).toEqual([]);
  });

  it('shows an agents file that the loader accepts', () => {
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    const example = blocks
      .map((block) => JSON.parse(block) as unknown)
      .find((json) => typeof json === 'object' && json !== null && 'agents' in json);
    expect(example).toBeDefined();
    const agents = parseAgents(example, 'docs/PROVIDERS.md', {
      toolNames: ['calculator', 'datetime', 'search', 'weather'],
    });
    expect(agents.map((agent) => agent.id)).toEqual(['support', 'local']);
  });
});
