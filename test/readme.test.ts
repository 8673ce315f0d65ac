import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('opens with the two commands', () => {
    const firstBlock = readme.slice(0, readme.indexOf('## '));
    expect(firstBlock).toContain('npm install && npm start');
    expect(firstBlock).toContain('npm test');
  });

  it('lists every configuration variable with its default and meaning', () => {
    for (const [name, [, schema, meaning]] of Object.entries(CONFIG_VARIABLES)) {
      const parsed = schema.safeParse(undefined);
      const fallback =
        parsed.success && parsed.data !== undefined ? `\`${String(parsed.data)}\`` : '—';
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect(row, `README row for ${name}`).toBeDefined();
      const cells = (row ?? '').split('|').map((cell) => cell.trim());
      expect(cells[2], `default of ${name}`).toBe(fallback);
      expect(cells[3], `meaning of ${name}`).toBe(meaning);
    }
  });
});
