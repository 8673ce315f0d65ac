/**
 * The pages' esbuild configuration, in one place for both uses: `npm run build` writes the bundles
 * to `dist/pages/` (scripts/build-pages.ts), and a server running from source (tsx, vitest) bundles
 * them in memory on request (static-files.ts), so `npm run dev` and the tests always serve what is
 * in `src/pages/` and never a stale build. esbuild is a devDependency: a packed package never
 * loads this module, it serves `dist/pages/`.
 */
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The pages the server serves, each a folder of `src/pages/` with `index.html`, `main.ts` and `<page>.css`. */
export const PAGE_NAMES = ['chat', 'inspector'] as const;

/** One of {@link PAGE_NAMES}. */
export type PageName = (typeof PAGE_NAMES)[number];

/** Where the pages' sources live. */
export const PAGES_SOURCE = fileURLToPath(new URL('../pages/', import.meta.url));

function buildOptions(): BuildOptions {
  return {
    // `<page>/<page>.js` and `<page>/<page>.css`: the names each page's index.html links to.
    entryPoints: PAGE_NAMES.flatMap((page) => [
      { in: join(PAGES_SOURCE, page, 'main.ts'), out: `${page}/${page}` },
      { in: join(PAGES_SOURCE, page, `${page}.css`), out: `${page}/${page}` },
    ]),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    // The client's `parley-engine/client` and `parley-engine/protocol` imports resolve to src/.
    tsconfig: join(PAGES_SOURCE, 'tsconfig.json'),
    logLevel: 'silent',
  };
}

/**
 * Writes every page to `outdir`: the bundles, and each page's index.html beside them.
 *
 * @example
 * await writePages('dist/pages');
 */
export async function writePages(outdir: string): Promise<string[]> {
  const { build } = await import('esbuild');
  await rm(outdir, { recursive: true, force: true });
  const result = await build({ ...buildOptions(), outdir, write: true, metafile: true });
  const written = Object.keys(result.metafile.outputs);
  for (const page of PAGE_NAMES) {
    await mkdir(join(outdir, page), { recursive: true });
    await copyFile(join(PAGES_SOURCE, page, 'index.html'), join(outdir, page, 'index.html'));
    written.push(join(outdir, page, 'index.html'));
  }
  return written;
}

/** The bundled files by their path under the output folder (`chat/chat.js`). */
export type PageFiles = ReadonlyMap<string, string>;

/** Nothing is written there: the in-memory files are named relative to it. */
const MEMORY_OUTDIR = join(PAGES_SOURCE, 'out');
/** The repository: esbuild names the inputs of its metafile relative to it. */
const ROOT = join(PAGES_SOURCE, '..', '..');

interface MemoryBundle {
  files: PageFiles;
  /** Every source file bundled, and when the build that read them started. */
  inputs: string[];
  startedAt: number;
}

let latest: Promise<MemoryBundle> | undefined;

/**
 * Bundles the pages in memory from `src/pages/`, with inline source maps. `fresh` checks whether
 * any source file changed since the last bundle (a few `stat`s) and bundles again if one did, so
 * that reloading a page in development shows the last edit; otherwise the last bundle is reused.
 *
 * A plain `build()` rather than an incremental esbuild context: a context keeps the process
 * alive, and this module cannot know when the server that asked has closed.
 *
 * @example
 * const files = await bundlePages({ fresh: true });
 * files.get('chat/chat.js');
 */
export async function bundlePages({ fresh }: { fresh: boolean }): Promise<PageFiles> {
  const last = latest;
  if (last !== undefined && (!fresh || !(await changedSince(await last)))) {
    return (await last).files;
  }
  const building = bundle();
  latest = building;
  // A failed build is reported to the request that asked, and retried by the next one.
  building.catch(() => {
    if (latest === building) latest = undefined;
  });
  return (await building).files;
}

async function bundle(): Promise<MemoryBundle> {
  const startedAt = Date.now();
  const { build } = await import('esbuild');
  const result = await build({
    ...buildOptions(),
    absWorkingDir: ROOT,
    outdir: MEMORY_OUTDIR,
    write: false,
    sourcemap: 'inline',
    metafile: true,
  });
  return {
    files: new Map(
      result.outputFiles.map((file) => [relative(MEMORY_OUTDIR, file.path), file.text]),
    ),
    inputs: Object.keys(result.metafile.inputs).map((input) => join(ROOT, input)),
    startedAt,
  };
}

async function changedSince({ inputs, startedAt }: MemoryBundle): Promise<boolean> {
  const times = await Promise.all(
    inputs.map((input) =>
      stat(input).then(
        (found) => found.mtimeMs,
        () => Infinity,
      ),
    ),
  );
  return times.some((time) => time >= startedAt);
}
