import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { PageName } from './page-bundles.js';

/**
 * Running from source (tsx, vitest): this module is TypeScript, and the pages are bundled from
 * `src/pages/` on request. Running the build (`npm start`, the installed package): the bundles
 * are in `dist/pages/`, written by `npm run build`.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** dist/src/server/static-files.js → dist/pages/ */
const BUILT_PAGES = new URL('../../pages/', import.meta.url);

const cache = new Map<string, string>();

/**
 * A file of a page: its `index.html`, or its bundled `<page>.js` / `<page>.css`. Undefined when
 * there is no such file. From source, asking for `index.html` bundles again if a source changed,
 * so a reload in development shows the last edit.
 *
 * @example
 * response.end(await readPageFile('chat', 'index.html'));
 */
export async function readPageFile(page: PageName, name: string): Promise<string | undefined> {
  if (FROM_SOURCE) {
    const { bundlePages, PAGES_SOURCE } = await import('./page-bundles.js');
    if (name === 'index.html') {
      await bundlePages({ fresh: true });
      return readFile(join(PAGES_SOURCE, page, 'index.html'), 'utf8');
    }
    return (await bundlePages({ fresh: false })).get(`${page}/${name}`);
  }
  return cached(`page:${page}/${name}`, () =>
    readFileSync(new URL(`${page}/${name}`, BUILT_PAGES), 'utf8'),
  );
}

/** The elkjs bundle the inspector draws statecharts with, served by the engine (no CDN). */
export function readElkBundle(): string | undefined {
  return cached('elk', () =>
    readFileSync(createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js'), 'utf8'),
  );
}

function cached(key: string, read: () => string): string | undefined {
  if (!cache.has(key)) {
    try {
      cache.set(key, read());
    } catch {
      return undefined;
    }
  }
  return cache.get(key);
}
