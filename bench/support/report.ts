/**
 * Printing results: GitHub-style tables that read well in a terminal and paste into
 * docs/PERFORMANCE.md, and the JSON summary (printed, and written with `--json`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BenchOptions } from './options.js';

/** A cell of a table. */
export type Cell = string | number;

/**
 * A table with aligned columns; numbers are right-aligned.
 *
 * @example
 * markdownTable(['server', 'frames/s'], [['Parley', 41000]]);
 */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
): string {
  const text = rows.map((row) =>
    row.map((cell) => (typeof cell === 'number' ? formatNumber(cell) : cell)),
  );
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...text.map((row) => (row[column] ?? '').length)),
  );
  const numeric = headers.map((_, column) => rows.every((row) => typeof row[column] === 'number'));
  const line = (cells: readonly string[]) =>
    `| ${cells
      .map((cell, column) =>
        numeric[column] === true
          ? cell.padStart(widths[column] ?? 0)
          : cell.padEnd(widths[column] ?? 0),
      )
      .join(' | ')} |`;
  const rule = `| ${widths
    .map((width, column) =>
      numeric[column] === true ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width),
    )
    .join(' | ')} |`;
  return [line(headers), rule, ...text.map(line)].join('\n');
}

/** A number with thousands separators and at most `digits` decimals (2 below 10, else 1 or 0). */
export function formatNumber(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return '—';
  const places =
    digits ??
    (Number.isInteger(value) || Math.abs(value) >= 1000 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', {
    minimumFractionDigits: places,
    maximumFractionDigits: places,
  });
}

/** `value / reference`, rounded to two decimals (NaN when the reference is 0). */
export function ratio(value: number, reference: number): number {
  return reference === 0 ? Number.NaN : Math.round((value / reference) * 100) / 100;
}

/** Rounds to three decimals (µs precision for milliseconds). */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The mean of some numbers (NaN for none). */
export function mean(values: readonly number[]): number {
  return values.length === 0
    ? Number.NaN
    : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * Prints a benchmark's tables and JSON summary, and writes the JSON to `--json` when given.
 */
export function emitResult(
  options: BenchOptions,
  title: string,
  tables: string,
  result: object,
): void {
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(`\n## ${title}\n\n${tables}\n\nJSON summary:\n${json}\n`);
  if (options.json !== undefined) {
    mkdirSync(dirname(options.json), { recursive: true });
    writeFileSync(options.json, json + '\n');
  }
}

/** The footnote of tables whose rows may carry `*`. */
export const CONTENTION_NOTE =
  '`*`: other processes on the machine used more than 40% of a core during this window ' +
  '(the "other CPU %" column); its absolute figures are less reliable than the rest.';

/** The footnote of tables whose rows may carry `†`. */
export const SATURATION_NOTE =
  '`†`: a client process used more than 85% of a core in this window: the load generator, not ' +
  "only the server, may have set the pace (its frames/s is a lower bound of the server's). " +
  '"client CPU %" lists each client process.';

/** Prints one progress line to stderr (kept out of the results on stdout). */
export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}
