/**
 * Starts a worker thread from a module of Parley's own, compiled or not.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker module `name` (without extension) that sits next to the module at
 * `moduleUrl` (the caller's `import.meta.url`). Compiled, that is `<name>.js`. Under tsx or vitest
 * the caller is TypeScript, and so is the worker: a small bootstrap registers tsx's loader in the
 * worker first (its `--import` flag is not honoured in a worker's execArgv on Node 20).
 *
 * @example
 * const worker = startModuleWorker(import.meta.url, 'sqlite-worker', { path });
 */
export function startModuleWorker(moduleUrl: string, name: string, workerData: unknown): Worker {
  if (!moduleUrl.endsWith('.ts')) {
    return new Worker(new URL(`./${name}.js`, moduleUrl), { workerData });
  }
  const require = createRequire(moduleUrl);
  const tsxPackage = require.resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(tsxPackage, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const api = pathToFileURL(join(dirname(tsxPackage), exports['./esm/api']?.import.default ?? ''));
  const entry = new URL(`./${name}.ts`, moduleUrl);
  const bootstrap = `import(${JSON.stringify(api.href)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
