/**
 * The configuration file and `.env`: where `parley serve` and `parley config` read settings
 * besides the environment. The file is JSON with the environment's variable names as keys (so a
 * setting has one name everywhere); `.env` adds variables to the environment without replacing
 * any that are set.
 */
import { parse as parseEnv } from 'dotenv';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigFileValues } from '../config.js';
import { CONFIG_VARIABLES } from './variables.js';

/** The file read when `PARLEY_CONFIG` is not set, from the working directory, if it exists. */
export const DEFAULT_CONFIG_FILE = 'parley.config.json';

const NAMES = Object.keys(CONFIG_VARIABLES);

/**
 * Reads the configuration file `PARLEY_CONFIG` names, or `./parley.config.json` when that exists;
 * undefined when there is none. Values are checked later, by the same schemas as the
 * environment's (`resolveConfig`).
 *
 * @throws {TypeError} naming the file when `PARLEY_CONFIG` names a missing file, the file is not
 * JSON or not an object, or a key is not a configuration variable (with the closest one).
 *
 * @example
 * const file = readConfigFile(process.env); // { path: 'parley.config.json', values: { PORT: 9000 } }
 */
export function readConfigFile(
  environment: Record<string, string | undefined>,
  directory = process.cwd(),
): ConfigFileValues | undefined {
  const named = environment.PARLEY_CONFIG?.trim();
  const path = named === undefined || named === '' ? DEFAULT_CONFIG_FILE : named;
  const absolute = resolve(directory, path);
  if (!existsSync(absolute)) {
    if (path === DEFAULT_CONFIG_FILE) return undefined;
    throw new TypeError(`PARLEY_CONFIG=${JSON.stringify(path)}: no such file.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(absolute, 'utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TypeError(`${path}: not valid JSON (${reason}).`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TypeError(
      `${path}: expected a JSON object of settings keyed by variable name, e.g. { "PORT": 8080 }.`,
    );
  }
  for (const key of Object.keys(parsed)) {
    if (key === 'PARLEY_CONFIG') {
      throw new TypeError(`${path}: PARLEY_CONFIG cannot be set in the configuration file itself.`);
    }
    if (!NAMES.includes(key)) {
      const closest = closestName(key);
      throw new TypeError(
        `${path}: unknown key "${key}"${closest === undefined ? '' : ` (did you mean "${closest}"?)`}; keys are the environment variables of README's configuration table.`,
      );
    }
  }
  return { path, values: parsed as Record<string, unknown> };
}

/**
 * The variables of a `.env` file in `directory` (dotenv's parser: Node's own `util.parseEnv` needs Node 20.12), or
 * undefined when there is none. They are meant to go under the environment's own: a variable
 * set in the environment keeps its value.
 *
 * @example
 * const dotEnv = readDotEnv();
 * const environment = { ...dotEnv?.values, ...process.env };
 */
export function readDotEnv(
  directory = process.cwd(),
): { path: string; values: Record<string, string> } | undefined {
  const path = resolve(directory, '.env');
  if (!existsSync(path)) return undefined;
  return { path: '.env', values: parseEnv(readFileSync(path, 'utf8')) };
}

/** The variable name closest to a misspelt key (at most 3 edits away), if any. */
function closestName(key: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of NAMES) {
    const distance = editDistance(key.toUpperCase(), name);
    if (distance <= 3 && (best === undefined || distance < best.distance))
      best = { name, distance };
  }
  return best?.name;
}

function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let i = 1; i <= left.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= right.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (left[i - 1] === right[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}

/** What the command line reads configuration from, besides code. */
export interface ConfigSources {
  /** The process environment over the `.env` file's variables. */
  environment: Record<string, string | undefined>;
  /** The `.env` file read, if any. */
  dotEnv?: { path: string; values: Record<string, string> };
  /** The configuration file read, if any. */
  file?: ConfigFileValues;
}

/**
 * Reads `.env` and the configuration file as `parley serve` and `parley config` do: the
 * environment wins over `.env`, and `PARLEY_CONFIG` may come from either.
 *
 * @example
 * const { environment, file } = readConfigSources(process.env);
 * const config = loadConfig(environment, {}, { ...(file === undefined ? {} : { file }) });
 */
export function readConfigSources(
  processEnvironment: Record<string, string | undefined>,
  directory = process.cwd(),
): ConfigSources {
  const dotEnv = readDotEnv(directory);
  const environment = { ...dotEnv?.values, ...processEnvironment };
  const file = readConfigFile(environment, directory);
  return {
    environment,
    ...(dotEnv === undefined ? {} : { dotEnv }),
    ...(file === undefined ? {} : { file }),
  };
}
