/**
 * Compiles Parley and the benchmarks once per run (tsc into `node_modules/.cache/parley-bench`),
 * so the measured processes run plain JavaScript: no tsx loader thread, no on-the-fly transforms.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set by the first build so that child benchmark scripts reuse it. */
const BUILD_VARIABLE = 'PARLEY_BENCH_BUILD';

/** The repository root, found from this file in `bench/support/` (source or compiled). */
export function repositoryRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const compiledMarker = join('node_modules', '.cache', 'parley-bench');
  const index = here.indexOf(compiledMarker);
  if (index >= 0) return here.slice(0, index - 1);
  return resolve(here, '..', '..');
}

/**
 * Builds (incrementally) and returns the build directory; later calls, and child processes that
 * inherit the environment, reuse it. Type errors are printed but do not stop the build: another
 * change in progress should not block measuring the code that does compile.
 *
 * @example
 * const build = ensureBuilt();
 * const script = join(build, 'bench', 'servers', 'ws-server.js');
 */
export function ensureBuilt(): string {
  const existing = process.env[BUILD_VARIABLE];
  if (existing !== undefined && existsSync(existing)) return existing;
  const root = repositoryRoot();
  const out = join(root, 'node_modules', '.cache', 'parley-bench');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const started = Date.now();
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, 'bench', 'tsconfig.bench.json')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const output = (error as { stdout?: Buffer }).stdout?.toString('utf8') ?? String(error);
    if (!existsSync(join(out, 'bench', 'servers', 'parley-server.js'))) {
      throw new Error(`bench: the build failed\n${output}`, { cause: error });
    }
    process.stderr.write(`bench: tsc reported errors (the emitted code is used anyway):\n`);
    process.stderr.write(output.split('\n').slice(0, 20).join('\n') + '\n');
  }
  // Outside the package's own folder Node would take the files for CommonJS.
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  process.stderr.write(`bench: compiled in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.env[BUILD_VARIABLE] = out;
  return out;
}

/** The compiled path of a file under `bench/`, e.g. `servers/ws-server`. */
export function benchScript(build: string, name: string): string {
  return join(build, 'bench', `${name}.js`);
}
