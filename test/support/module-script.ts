/**
 * Runs an ES module script in a fresh Node process under tsx, for tests about how a process ends
 * (a worker left unreferenced lets Node exit early with code 13).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * Runs `script` (ESM, may `import()` TypeScript modules) and resolves with its trimmed stdout;
 * rejects when the process exits with another code than 0.
 *
 * @example
 * expect(await runModuleScript(`console.log(1 + 1)`)).toBe('2');
 */
export async function runModuleScript(script: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    '--input-type=module',
    '--eval',
    script,
  ]);
  return stdout.trim();
}
