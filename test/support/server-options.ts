import { CONFIG_VARIABLES, type ConfigOverrides } from '../../src/config.js';
import type { ParleyOptions } from '../../src/server/create-parley.js';

const CONFIG_KEYS = new Set<string>(Object.values(CONFIG_VARIABLES).map(([key]) => key));
const PART_KEYS = new Set([
  'environment',
  'logger',
  'model',
  'tools',
  'store',
  'chatPage',
  'readinessChecks',
  'authorize',
  'agents',
  'mcp',
]);

/** Test shorthand: settings, parts and effects side by side; split into `startServer`'s options. */
export type TestServerOptions = ConfigOverrides &
  Omit<ParleyOptions, 'config' | 'effects'> &
  // `agents` is a part (agent options); the engine's own `agents` are built from it.
  Omit<NonNullable<ParleyOptions['effects']>, 'agents'>;

/** Splits the shorthand by the configuration schema's own keys, so none is dropped. */
export function toServerOptions(options: TestServerOptions): ParleyOptions {
  const config: Record<string, unknown> = {};
  const effects: Record<string, unknown> = {};
  const parts: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (CONFIG_KEYS.has(key)) config[key] = value;
    else if (PART_KEYS.has(key)) parts[key] = value;
    else effects[key] = value;
  }
  return { ...parts, config, effects };
}
