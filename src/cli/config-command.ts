import { CONFIG_VARIABLES, SECRET_SETTINGS, resolveConfig, shownValue } from '../config.js';
import { readConfigSources } from '../config/config-file.js';

/** Where `parley config` says a value came from. */
type ShownSource = 'default' | 'file' | '.env' | 'env';

/**
 * `parley config [--json]`: prints the configuration `parley serve` would run with, one line per
 * variable: its value (secrets masked, only their length shown) and where it came from
 * (`default`, `file` with the file's path, `.env`, or `env`). Exits 1 with the error, naming
 * the file and key, when the configuration is invalid.
 *
 * @example
 * // $ PORT=9000 parley config
 * // PORT                9000                env
 */
export function configCommand(values: { json?: boolean }): number {
  const { environment, dotEnv, file } = readConfigSources(process.env);
  const { config, sources } = resolveConfig(environment, {}, file === undefined ? {} : { file });
  const rows = Object.entries(CONFIG_VARIABLES).map(([name, [key]]) => {
    const value = (config as unknown as Record<string, unknown>)[key];
    const from = sources[name as keyof typeof CONFIG_VARIABLES];
    // A variable that is in .env and not in the process environment came from .env.
    const source: ShownSource =
      from === 'env' && process.env[name] === undefined && dotEnv?.values[name] !== undefined
        ? '.env'
        : (from as ShownSource);
    return { name, value, source };
  });
  if (values.json === true) {
    const output = Object.fromEntries(
      rows.map((row) => [row.name, { value: masked(row.name, row.value), source: row.source }]),
    );
    process.stdout.write(
      `${JSON.stringify({ file: file?.path ?? null, settings: output }, null, 2)}\n`,
    );
    return 0;
  }
  const shown = rows.map((row) => ({ ...row, text: text(row.name, row.value) }));
  const nameWidth = Math.max(...shown.map((row) => row.name.length));
  const valueWidth = Math.min(48, Math.max(...shown.map((row) => row.text.length)));
  for (const row of shown) {
    const where = row.source === 'file' && file !== undefined ? `file ${file.path}` : row.source;
    process.stdout.write(
      `${row.name.padEnd(nameWidth)}  ${row.text.padEnd(valueWidth)}  ${where}\n`,
    );
  }
  return 0;
}

/** A value for JSON output: a secret's replaced by its masked form, unset as null. */
function masked(name: string, value: unknown): unknown {
  if (value === undefined) return null;
  return SECRET_SETTINGS.has(name) ? shownValue(name, value) : value;
}

/** A value for the table: as the environment would spell it, `-` when unset. */
function text(name: string, value: unknown): string {
  if (value === undefined) return '-';
  if (SECRET_SETTINGS.has(name)) return shownValue(name, value);
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}
