/**
 * Server configuration: {@link loadConfig} reads every setting from the environment and from
 * code, with the same schema for both (src/config/variables.ts), and fills the defaults.
 */
import type { z } from 'zod';
import type { ParleyConfig } from './config/parley-config.js';
import { CONFIG_VARIABLES } from './config/variables.js';

export { CONFIG_VARIABLES } from './config/variables.js';
export type { ParleyConfig } from './config/parley-config.js';

type Variables = typeof CONFIG_VARIABLES;
type ConfigKey = Variables[keyof Variables][0];
type ValueOf<TKey extends ConfigKey> = z.output<
  Extract<Variables[keyof Variables], readonly [TKey, z.ZodType, string]>[1]
>;

// Keeps the documented interface and the schemas in step: a field added to one only fails here.
type FromSchemas = { [TKey in ConfigKey]: ValueOf<TKey> };
type SameKeys<TLeft, TRight> = [keyof TLeft] extends [keyof TRight]
  ? [keyof TRight] extends [keyof TLeft]
    ? true
    : false
  : false;
/** Compile-time only: the schemas' keys and value types are those of {@link ParleyConfig}. */
export type ConfigSchemasMatch = [
  SameKeys<FromSchemas, ParleyConfig> extends true ? true : never,
  FromSchemas & Pick<ParleyConfig, 'devMode' | 'inspector' | 'access'> extends ParleyConfig
    ? true
    : never,
];

/** Settings given in code (`startServer({ config })`); they override the environment. */
export type ConfigOverrides = Partial<ParleyConfig>;

/**
 * Settings whose values are secrets: an error names them but never shows the value. Base URLs
 * count: one can carry credentials (`https://user:key@host/v1`), or a key pasted in the wrong place.
 */
export const SECRET_SETTINGS = new Set([
  'PARLEY_JWT_SECRET',
  'PARLEY_INSPECTOR_TOKEN',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_BASE_URL',
  'PARLEY_MODEL_API_KEY',
  'PARLEY_MODEL_BASE_URL',
  'PARLEY_REDIS_URL',
  'PARLEY_DB',
]);

/**
 * A setting's value as an error message or `parley config` may show it: a secret's is never
 * shown, only its length.
 *
 * @example
 * shownValue('PARLEY_JWT_SECRET', 'abc…') // '(hidden, 32 characters)'
 */
export function shownValue(name: string, value: unknown): string {
  if (!SECRET_SETTINGS.has(name)) return JSON.stringify(value);
  return typeof value === 'string' ? `(hidden, ${value.length} characters)` : '(hidden)';
}

const KEYS = new Map<string, [name: string, schema: z.ZodType]>(
  Object.entries(CONFIG_VARIABLES).map(([name, [key, schema]]) => [key, [name, schema]]),
);

/** Where a setting's value came from, lowest precedence first. */
export type ConfigSource = 'default' | 'file' | 'env' | 'code';

/** A configuration file's settings, keyed by variable name as in the environment. */
export interface ConfigFileValues {
  /** The file's path, as errors and `parley config` name it. */
  path: string;
  values: Readonly<Record<string, unknown>>;
}

/** The resolved configuration and, for each variable, where its value came from. */
export interface ResolvedConfig {
  config: ParleyConfig;
  sources: Record<keyof typeof CONFIG_VARIABLES, ConfigSource>;
}

/**
 * Reads configuration from environment variables, applies overrides from code, and fills
 * defaults. Both go through the same schema. A wrong type throws a `TypeError` and a value out of
 * range a `RangeError`, naming the variable or option and what was expected (as `ws` does for its
 * options); an unknown option throws a `TypeError`.
 *
 * @example
 * const config = loadConfig(process.env, { port: 0 });
 */
export function loadConfig(
  environment: Record<string, string | undefined> = process.env,
  overrides: ConfigOverrides = {},
  options: { file?: ConfigFileValues } = {},
): ParleyConfig {
  return resolveConfig(environment, overrides, options).config;
}

/**
 * {@link loadConfig}, telling where each value came from: its default, the configuration file
 * (`options.file`, keyed like the environment), the environment, or code. Each overrides the
 * one before it; every one is validated by the variable's schema, and an error in the file
 * names the file and the key.
 *
 * @example
 * const { config, sources } = resolveConfig(process.env, {}, { file: readConfigFile(process.env) });
 * sources.PORT // 'default' | 'file' | 'env' | 'code'
 */
export function resolveConfig(
  environment: Record<string, string | undefined> = process.env,
  overrides: ConfigOverrides = {},
  { file }: { file?: ConfigFileValues } = {},
): ResolvedConfig {
  const values: Record<string, unknown> = {};
  const sources = {} as Record<string, ConfigSource>;
  const problems: Problem[] = [];
  for (const [name, [key, schema]] of Object.entries(CONFIG_VARIABLES)) {
    const fromEnvironment = environment[name];
    const fromFile = file?.values[name];
    const [raw, source, where]: [unknown, ConfigSource, string] =
      fromEnvironment !== undefined && fromEnvironment !== ''
        ? [fromEnvironment, 'env', name]
        : fromFile !== undefined && fromFile !== ''
          ? [fromFile, 'file', `${file?.path ?? ''}: ${name}`]
          : [undefined, 'default', name];
    const parsed = (schema as z.ZodType).safeParse(raw);
    sources[name] = source;
    if (parsed.success) values[key] = parsed.data;
    else problems.push(problem(`${where}=${shownValue(name, raw)}`, parsed.error));
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const known = KEYS.get(key);
    if (known === undefined) throw new TypeError(`Unknown configuration option "${key}".`);
    const parsed = known[1].safeParse(value);
    sources[known[0]] = 'code';
    if (parsed.success) values[key] = parsed.data;
    else problems.push(problem(`config.${key}=${shownValue(known[0], value)}`, parsed.error));
  }
  if (problems.length > 0) {
    const message = `Invalid configuration: ${problems.map((item) => item.text).join('; ')}`;
    throw problems.every((item) => item.type) ? new TypeError(message) : new RangeError(message);
  }
  const merged = values as Omit<ParleyConfig, 'devMode' | 'inspector' | 'access'> & {
    devMode?: boolean;
    inspector?: boolean;
    access?: ParleyConfig['access'];
  };
  const hasKey = merged.jwtSecret !== undefined || merged.jwtPublicKeyFile !== undefined;
  const devMode = merged.devMode ?? (isLoopback(merged.host) && !hasKey);
  const inspector = merged.inspector ?? devMode;
  if (inspector && !devMode && merged.inspectorToken === undefined) {
    throw new RangeError(
      'Invalid configuration: PARLEY_INSPECTOR=1 outside development mode needs PARLEY_INSPECTOR_TOKEN (16+ characters).',
    );
  }
  if (merged.redisUrl !== undefined && !isPostgresUrl(merged.database)) {
    throw new RangeError(
      `Invalid configuration: cluster mode (PARLEY_REDIS_URL is set) needs the PostgreSQL event log that every instance shares; PARLEY_DB is ${merged.database === 'memory' ? 'memory' : 'an SQLite file'}. Set PARLEY_DB=postgres://user@host:5432/database, or unset PARLEY_REDIS_URL to run one instance.`,
    );
  }
  if (merged.redisUrl !== undefined && merged.logMaxAgeMs > 0) {
    throw new RangeError(
      'Invalid configuration: PARLEY_LOG_MAX_AGE is not available in cluster mode (PARLEY_REDIS_URL is set): removing a conversation must be coordinated with the instance that owns it, which is not built yet. Unset PARLEY_LOG_MAX_AGE; PARLEY_LOG_RETENTION (entries per conversation) works in cluster mode.',
    );
  }
  // The file found without PARLEY_CONFIG (./parley.config.json) is still the one in use.
  if (merged.configFile === undefined && file !== undefined) merged.configFile = file.path;
  const access = merged.access ?? (hasKey ? 'members' : 'open');
  return {
    config: { ...merged, devMode, inspector, access },
    sources: sources,
  };
}

/** Whether `PARLEY_DB` names PostgreSQL rather than SQLite or memory. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//.test(database);
}

interface Problem {
  text: string;
  /** A wrong type (TypeError), rather than a value out of range (RangeError). */
  type: boolean;
}

function problem(where: string, error: z.ZodError): Problem {
  const issue = error.issues[0];
  return { text: `${where}: ${describe(issue)}`, type: isTypeMismatch(issue) };
}

/**
 * A union's own message says only "Invalid input": say what its branches expected, leaving out
 * the branches of another type (an environment variable is always a string).
 */
function describe(issue: z.core.$ZodIssue | undefined): string {
  if (issue?.code !== 'invalid_union') return issue?.message ?? 'invalid';
  const inner = issue.errors.flat();
  const relevant = inner.filter((item) => item.code !== 'invalid_type');
  const messages = (relevant.length > 0 ? relevant : inner).map((item) => item.message);
  return [...new Set(messages)].join(', or ');
}

/** A value of the wrong type (TypeError) rather than one out of range (RangeError). */
function isTypeMismatch(issue: z.core.$ZodIssue | undefined): boolean {
  if (issue?.code !== 'invalid_union') return issue?.code === 'invalid_type';
  return issue.errors.every((branch) => branch.every((inner) => inner.code === 'invalid_type'));
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
