import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { renderEnvExample } from '../scripts/env-example.js';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.js';

const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');

describe('.env.example', () => {
  it('is what scripts/env-example.ts writes from the variables (run it after adding one)', () => {
    expect(text).toBe(renderEnvExample());
  });

  it('lists every variable with its default, commented out', () => {
    for (const name of Object.keys(CONFIG_VARIABLES)) {
      expect(text, name).toMatch(new RegExp(`^# ${name}=`, 'm'));
    }
    // Uncommented, its defaults give the configuration of an empty environment.
    const uncommented = text.replace(/^# ([A-Z_]+=)/gm, '$1');
    const values = parseEnv(uncommented);
    expect(Object.keys(values).sort()).toEqual(Object.keys(CONFIG_VARIABLES).sort());
    expect(loadConfig(values as Record<string, string>)).toEqual(loadConfig({}));
  });
});
