import { CONFIG_VARIABLES } from '../config.js';
import { parseMcpConfig } from '../tools/mcp/mcp-config.js';
import type { ParleyOptions } from './create-parley.js';

/** Every option {@link ParleyOptions} knows, by name. */
const OPTION_NAMES = new Set([
  'config',
  'environment',
  'configFile',
  'logger',
  'model',
  'agents',
  'tools',
  'mcp',
  'store',
  'chatPage',
  'effects',
  'readinessChecks',
  'authorize',
]);

const CONFIG_KEYS = new Set<string>(Object.values(CONFIG_VARIABLES).map(([key]) => key));

/**
 * Checks the shape of Parley's options before anything starts: an unknown option, or a part of
 * the wrong kind, throws a `TypeError` naming it, as `ws` does for its own options. Settings
 * themselves are checked by `loadConfig`.
 *
 * @example
 * validateOptions({ config: { port: 0 } }); // fine
 * validateOptions({ port: 0 }); // TypeError: a setting goes under `config`
 */
export function validateOptions(options: ParleyOptions): void {
  // Typed callers cannot get here; JavaScript ones can.
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new TypeError('Parley options must be an object.');
  }
  for (const name of Object.keys(options)) {
    if (OPTION_NAMES.has(name)) continue;
    if (CONFIG_KEYS.has(name)) {
      throw new TypeError(
        `Unknown option "${name}": settings go under \`config\`, e.g. { config: { ${name}: … } }.`,
      );
    }
    throw new TypeError(
      `Unknown option "${name}"; expected one of ${[...OPTION_NAMES].join(', ')}.`,
    );
  }
  const parts: [string, unknown, string][] = [
    ['model', options.model, 'stream'],
    ['tools', options.tools, 'execute'],
    ['store', options.store, 'append'],
  ];
  for (const [name, part, method] of parts) {
    if (part === undefined) continue;
    if (
      typeof part !== 'object' ||
      part === null ||
      typeof (part as never)[method] !== 'function'
    ) {
      throw new TypeError(`Option "${name}" must be an object with a ${method}() method.`);
    }
  }
  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    throw new TypeError(
      'Option "authorize" must be a function ({ user, claims, conversationId, action }) => boolean | undefined | Promise<boolean | undefined>.',
    );
  }
  if (options.agents !== undefined && !Array.isArray(options.agents)) {
    throw new TypeError('Option "agents" must be an array of agents ({ id, model, … }).');
  }
  if (options.readinessChecks !== undefined && !Array.isArray(options.readinessChecks)) {
    throw new TypeError('Option "readinessChecks" must be an array of { name, check() }.');
  }
  for (const name of ['config', 'effects', 'environment', 'mcp', 'configFile'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'object' || (value as unknown) === null)) {
      throw new TypeError(`Option "${name}" must be an object.`);
    }
  }
  // Before anything opens: a store or a stdio server would outlive the refusal.
  if (options.mcp !== undefined) parseMcpConfig(options.mcp);
}
