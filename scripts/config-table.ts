/**
 * Rewrites README's table of configuration variables from `CONFIG_VARIABLES`, the one place each
 * variable's default and meaning are written (`npx tsx scripts/config-table.ts`, then Prettier).
 * `test/readme.test.ts` fails when the table and the schema disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_VARIABLES } from '../src/config.js';

const path = new URL('../README.md', import.meta.url);
const lines = readFileSync(path, 'utf8').split('\n');
const start = lines.findIndex((line) => /^\| variable\s+\| default\s+\| meaning/.test(line));
if (start < 0) throw new Error('README.md has no "| variable | default | meaning |" table');
let end = start + 2;
while (end < lines.length && lines[end]?.startsWith('| `')) end += 1;

const rows = Object.entries(CONFIG_VARIABLES).map(([name, [, schema, meaning]]) => {
  const parsed = schema.safeParse(undefined);
  const fallback = parsed.success && parsed.data !== undefined ? `\`${String(parsed.data)}\`` : '—';
  return `| \`${name}\` | ${fallback} | ${meaning} |`;
});
lines.splice(
  start,
  end - start,
  '| variable | default | meaning |',
  '| --- | --- | --- |',
  ...rows,
);
writeFileSync(path, lines.join('\n'));
