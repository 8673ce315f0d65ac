/**
 * The package as npm publishes it: packed with `npm pack`, installed from the tarball into a fresh
 * project that cannot see this repository's sources, then used as README shows. Catches what only a
 * packed package shows: a file missing from `files` (pages, inspector scripts, the elk bundle), a
 * type path that points into `src/`, a runtime dependency listed under devDependencies.
 *
 * Slow on purpose (about a minute): the install compiles better-sqlite3 from source where no
 * prebuilt binary can be downloaded, as a user's install would.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repository = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(repository, 'README.md'), 'utf8');
const typescriptCompiler = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** The README's ```ts blocks that import the given module specifier. */
function readmeExample(specifier: string): string {
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  const block = blocks.find((code) => code.includes(`from '${specifier}'`));
  if (block === undefined) throw new Error(`README has no \`\`\`ts example importing ${specifier}`);
  return block;
}

/** The scripts and stylesheets a page loads (`src="…"`, `href="….css"`), as paths. */
function assetsOf(html: string, base: string): string[] {
  const references = [
    ...html.matchAll(/src="([^"]+\.js)"/g),
    ...html.matchAll(/href="([^"]+\.css)"/g),
  ].map((match) => match[1] ?? '');
  return references.map((reference) => new URL(reference, `http://host${base}`).pathname);
}

let project = '';
let server: ChildProcess | undefined;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'parley-package-'));
  // `npm pack` runs `prepack` (the build), exactly as `npm publish` would.
  await run('npm', ['pack', '--pack-destination', project, '--silent'], {
    cwd: repository,
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = readdirSync(project).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`npm pack wrote no tarball into ${project}`);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'parley-user', private: true, type: 'module' }),
  );
  await run(
    'npm',
    [
      'install',
      `./${tarball}`,
      'zod@4',
      '@types/node@20',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
    ],
    { cwd: project, maxBuffer: 16 * 1024 * 1024 },
  );
}, 600_000);

afterAll(async () => {
  if (server !== undefined && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  if (project !== '') rmSync(project, { recursive: true, force: true });
});

describe('the packed package installed as a dependency', () => {
  // tsc over the installed package takes 5-20 s alone, more on a busy machine.
  it('type-checks the README examples against the installed root and client types', async () => {
    writeFileSync(join(project, 'library-example.ts'), readmeExample('parley-engine'));
    writeFileSync(
      join(project, 'client-example.ts'),
      readmeExample('parley-engine/client').replace(
        "'http://127.0.0.1:8080'",
        'process.env.PARLEY_URL ?? ""',
      ),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          // No skipLibCheck: Parley's own declarations are checked as a user's compiler sees them.
          // exactOptionalPropertyTypes stays off: XState 5's declarations fail under it.
          strict: true,
          noUncheckedIndexedAccess: true,
          types: ['node'],
          outDir: 'out',
        },
        files: ['library-example.ts', 'client-example.ts'],
      }),
    );
    // Emits too: the client example runs below as the compiled JavaScript a user would run.
    const result = await run(process.execPath, [typescriptCompiler, '-p', project], {
      cwd: project,
    }).catch((error: unknown) => ({
      stdout: (error as { stdout?: string }).stdout ?? (error as Error).message,
    }));
    expect(result.stdout).toBe('');
  }, 120_000);

  it('imports the root, protocol and client entry points at run time', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '--eval',
        `const root = await import('parley-engine');
         const protocol = await import('parley-engine/protocol');
         const client = await import('parley-engine/client');
         console.log(typeof root.startServer, typeof protocol.serverFrameSchema, typeof client.connect);`,
      ],
      { cwd: project },
    );
    expect(stdout.trim()).toBe('function object function');
  }, 60_000);

  it('serves the pages and answers the README client example from the installed `parley` bin', async () => {
    const child = spawn(join(project, 'node_modules', '.bin', 'parley'), ['serve', '--port', '0'], {
      cwd: project,
      env: { PATH: process.env.PATH, PARLEY_DB: 'memory', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /listening on (http:\/\/[^\s]+)/.exec(output);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child.once('exit', (code) => {
        reject(new Error(`parley exited with ${String(code)} before listening: ${output}`));
      });
    });

    // Every script and stylesheet the two pages load is in the package: the bundles built by
    // `npm run build` (dist/pages/) and the elk bundle from its dependency.
    const seen = new Map<string, string>();
    for (const page of ['/', '/inspector']) {
      const response = await fetch(`${url}${page}`);
      expect(response.status, page).toBe(200);
      for (const path of assetsOf(await response.text(), page)) {
        const asset = await fetch(`${url}${path}`);
        expect(asset.status, path).toBe(200);
        seen.set(path, asset.headers.get('content-type') ?? '');
      }
    }
    expect(Object.fromEntries(seen)).toEqual({
      '/chat/chat.css': 'text/css; charset=utf-8',
      '/chat/chat.js': 'text/javascript; charset=utf-8',
      '/inspector/inspector.css': 'text/css; charset=utf-8',
      '/inspector/elk.js': 'text/javascript; charset=utf-8',
      '/inspector/inspector.js': 'text/javascript; charset=utf-8',
    });

    const { stdout } = await run(process.execPath, [join(project, 'out', 'client-example.js')], {
      cwd: project,
      env: { ...process.env, PARLEY_URL: url },
      timeout: 30_000,
    });
    expect(stdout).toContain('5 + 3 = 8');
  }, 120_000);
});
