import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startParleyProcess } from './support/parley-process.js';

const cli = new URL('../src/cli.ts', import.meta.url).pathname;
// Resolved here: the process runs in a temporary directory, where `--import tsx` finds no package.
const tsx = import.meta.resolve('tsx');
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

/** Runs `parley config` as a real process in a directory holding `files`. */
function parleyConfig(
  files: Record<string, string>,
  environment: Record<string, string>,
  args: string[] = [],
) {
  const directory = mkdtempSync(join(tmpdir(), 'parley-config-command-'));
  directories.push(directory);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return spawnSync(process.execPath, ['--import', tsx, cli, 'config', ...args], {
    cwd: directory,
    env: { PATH: process.env.PATH, ...environment },
    encoding: 'utf8',
  });
}

const JWT_SECRET = 'jwt-secret-in-the-file-0123456789';
const TOKEN = 'admin-token-in-dotenv-0123';

describe('parley config', () => {
  it('prints each value with where it came from, secrets masked', () => {
    const result = parleyConfig(
      {
        'parley.config.json': JSON.stringify({ PORT: 9100, PARLEY_JWT_SECRET: JWT_SECRET }),
        '.env': `PARLEY_INSPECTOR_TOKEN=${TOKEN}\nPARLEY_MAX_STEPS=4\nPORT=9200\n`,
      },
      { PARLEY_MAX_STEPS: '5' },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const rows = new Map(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => {
          const [name = '', value = '', ...source] = line.split(/\s{2,}/);
          return [name, { value, source: source.join(' ') }];
        }),
    );
    expect(rows.get('PORT')).toEqual({ value: '9200', source: '.env' });
    expect(rows.get('PARLEY_MAX_STEPS')).toEqual({ value: '5', source: 'env' });
    expect(rows.get('PARLEY_JWT_SECRET')).toEqual({
      value: `(hidden, ${JWT_SECRET.length} characters)`,
      source: 'file parley.config.json',
    });
    expect(rows.get('PARLEY_INSPECTOR_TOKEN')).toEqual({
      value: `(hidden, ${TOKEN.length} characters)`,
      source: '.env',
    });
    expect(rows.get('PARLEY_TURN_CONCURRENCY')).toEqual({ value: '10', source: 'default' });
    expect(rows.get('PARLEY_CONFIG')).toEqual({ value: 'parley.config.json', source: 'default' });
    expect(result.stdout).not.toContain(JWT_SECRET);
    expect(result.stdout).not.toContain(TOKEN);
  });

  it('prints JSON with --json', () => {
    const result = parleyConfig({}, { PARLEY_JWT_SECRET: JWT_SECRET }, ['--json']);
    const output = JSON.parse(result.stdout) as {
      file: string | null;
      settings: Record<string, { value: unknown; source: string }>;
    };
    expect(output.file).toBeNull();
    expect(output.settings.PORT).toEqual({ value: 8080, source: 'default' });
    expect(output.settings.PARLEY_DEV_MODE).toEqual({ value: false, source: 'default' });
    expect(output.settings.PARLEY_JWT_SECRET).toEqual({
      value: `(hidden, ${JWT_SECRET.length} characters)`,
      source: 'env',
    });
    expect(result.stdout).not.toContain(JWT_SECRET);
  });

  it('exits 1 naming the file and the key of a bad value', () => {
    const result = parleyConfig({ 'parley.config.json': '{ "PARLEY_TURN_QUEUE": "many" }' }, {});
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'parley: Invalid configuration: parley.config.json: PARLEY_TURN_QUEUE="many": expected a whole number\n',
    );
  });
});

describe('parley serve', () => {
  it('runs with the settings of the file PARLEY_CONFIG names', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'parley-serve-config-'));
    directories.push(directory);
    const path = join(directory, 'parley.config.json');
    writeFileSync(path, JSON.stringify({ PARLEY_DB: 'memory', PARLEY_MAX_CONNECTIONS: 3 }));
    const { url } = await startParleyProcess({ PARLEY_CONFIG: path });
    const health = (await (await fetch(`${url}/health/ws`)).json()) as Record<string, unknown>;
    expect(health.max_connections).toBe(3);
  });
});
