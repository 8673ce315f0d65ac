import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The chat test page (`GET /`), read once from `src/server/static/chat.html`. The file is found
 * from the package root so the same code works from `src/` (tsx, tests) and from `dist/`.
 */
export function readChatPage(): string {
  cached ??= readFileSync(join(packageRoot(), 'src', 'server', 'static', 'chat.html'), 'utf8');
  return cached;
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
  throw new Error('parley: package root not found from ' + fileURLToPath(import.meta.url));
}
