import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, resolveConfig } from '../config.js';
import { readConfigFile, readConfigSources, readDotEnv } from './config-file.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

/** A fresh directory holding the given files. */
function folder(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'parley-config-'));
  directories.push(directory);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return directory;
}

describe('the configuration file', () => {
  it('is ./parley.config.json when present, and none when absent', () => {
    expect(readConfigFile({}, folder({}))).toBeUndefined();
    const directory = folder({ 'parley.config.json': '{ "PORT": 9100, "PARLEY_DB": "memory" }' });
    expect(readConfigFile({}, directory)).toEqual({
      path: 'parley.config.json',
      values: { PORT: 9100, PARLEY_DB: 'memory' },
    });
  });

  it('is the file PARLEY_CONFIG names, which must exist', () => {
    const directory = folder({ 'prod.json': '{ "HOST": "0.0.0.0" }' });
    expect(readConfigFile({ PARLEY_CONFIG: 'prod.json' }, directory)?.values).toEqual({
      HOST: '0.0.0.0',
    });
    expect(() => readConfigFile({ PARLEY_CONFIG: 'missing.json' }, directory)).toThrow(
      new TypeError('PARLEY_CONFIG="missing.json": no such file.'),
    );
  });

  it('names the file and the key of every mistake', () => {
    const read = (text: string) => () => readConfigFile({}, folder({ 'parley.config.json': text }));
    expect(read('{ "PORT": 80,')).toThrow(/^parley\.config\.json: not valid JSON \(/);
    expect(read('[1, 2]')).toThrow(
      'parley.config.json: expected a JSON object of settings keyed by variable name, e.g. { "PORT": 8080 }.',
    );
    expect(read('{ "PARLEY_MAX_STEP": 4 }')).toThrow(
      'parley.config.json: unknown key "PARLEY_MAX_STEP" (did you mean "PARLEY_MAX_STEPS"?); keys are the environment variables of README\'s configuration table.',
    );
    expect(read('{ "PARLEY_CONFIG": "other.json" }')).toThrow(
      'parley.config.json: PARLEY_CONFIG cannot be set in the configuration file itself.',
    );
  });

  it('is validated by the same schemas as the environment, errors naming the file and key', () => {
    const file = { path: 'parley.config.json', values: { PORT: 'eighty', PARLEY_TURN_QUEUE: -1 } };
    const attempt = () => loadConfig({}, {}, { file });
    expect(attempt).toThrow(RangeError);
    expect(attempt).toThrow(/parley\.config\.json: PORT="eighty": expected a whole number/);
    expect(attempt).toThrow(/parley\.config\.json: PARLEY_TURN_QUEUE=-1: Too small/);
  });

  it('never shows a secret of the file in an error', () => {
    const secret = 'short-secret';
    const file = { path: 'parley.config.json', values: { PARLEY_JWT_SECRET: secret } };
    expect(() => loadConfig({}, {}, { file })).toThrow(
      /parley\.config\.json: PARLEY_JWT_SECRET=\(hidden, 12 characters\)/,
    );
    expect(() => loadConfig({}, {}, { file })).not.toThrow(new RegExp(secret));
  });

  it('takes typed JSON values: numbers, booleans and lists', () => {
    const file = {
      path: 'parley.config.json',
      values: {
        PARLEY_TURN_CONCURRENCY: 4,
        PARLEY_DEV_MODE: false,
        PARLEY_JWT_SECRET: 'x'.repeat(32),
        PARLEY_ALLOWED_ORIGINS: ['https://a.example'],
      },
    };
    expect(loadConfig({}, {}, { file })).toMatchObject({
      turnConcurrency: 4,
      devMode: false,
      allowedOrigins: ['https://a.example'],
      configFile: 'parley.config.json',
    });
  });
});

describe('where each value comes from', () => {
  it('is the default, then the file, then the environment, then code', () => {
    const file = {
      path: 'parley.config.json',
      values: { PORT: 9100, HOST: '127.0.0.2', PARLEY_MAX_STEPS: 3 },
    };
    const { config, sources } = resolveConfig(
      { HOST: '127.0.0.3', PARLEY_MAX_STEPS: '5' },
      { maxSteps: 6 },
      { file },
    );
    expect(config).toMatchObject({
      port: 9100,
      host: '127.0.0.3',
      maxSteps: 6,
      turnConcurrency: 10,
    });
    expect(sources).toMatchObject({
      PORT: 'file',
      HOST: 'env',
      PARLEY_MAX_STEPS: 'code',
      PARLEY_TURN_CONCURRENCY: 'default',
    });
  });

  it('reads .env under the environment: a variable set in the environment keeps its value', () => {
    const directory = folder({
      '.env': 'PARLEY_MAX_STEPS=4\nLOG_LEVEL=debug\n# a comment\nPARLEY_CONFIG=from-dotenv.json\n',
      'from-dotenv.json': '{ "PORT": 9200 }',
    });
    expect(readDotEnv(directory)?.values).toEqual({
      PARLEY_MAX_STEPS: '4',
      LOG_LEVEL: 'debug',
      PARLEY_CONFIG: 'from-dotenv.json',
    });
    const { environment, file } = readConfigSources({ LOG_LEVEL: 'warn' }, directory);
    expect(file).toEqual({ path: 'from-dotenv.json', values: { PORT: 9200 } });
    const config = loadConfig(environment, {}, file === undefined ? {} : { file });
    expect(config).toMatchObject({ maxSteps: 4, logLevel: 'warn', port: 9200 });
  });
});
