import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cache = new Map<string, string>();

/**
 * A file from `src/server/static/` (the chat page, the inspector page and its scripts), read
 * once. Found from the package root so the same code works from `src/` and from `dist/`.
 * Undefined when there is no such file.
 *
 * @example
 * response.end(readStaticFile('chat.html'));
 */
export function readStaticFile(name: string): string | undefined {
  return cached(`static:${name}`, () =>
    readFileSync(join(packageRoot(), 'src', 'server', 'static', name), 'utf8'),
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

function packageRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth += 1) {
    try {
      readFileSync(join(directory, 'package.json'));
      return directory;
    } catch {
      directory = dirname(directory);
    }
  }
  throw new Error(`parley: package root not found from ${fileURLToPath(import.meta.url)}`);
}
