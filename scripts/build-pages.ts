/**
 * `npm run build` (after tsc): bundles the chat and inspector pages from src/pages/ into
 * dist/pages/, where the built server reads them. Usage: `tsx scripts/build-pages.ts [outdir]`.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePages } from '../src/server/page-bundles.js';

const outdir = process.argv[2] ?? fileURLToPath(new URL('../dist/pages', import.meta.url));
const written = await writePages(outdir);
for (const file of written.sort()) console.log(`  ${relative(process.cwd(), file)}`);
