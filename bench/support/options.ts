/**
 * Command-line options shared by every benchmark script and the runner.
 */
import { parseArgs } from 'node:util';

/** Options of a benchmark run. */
export interface BenchOptions {
  /** Short windows and fewer rounds (`--quick`), for CI and a first look. */
  quick: boolean;
  /** Write the JSON result here as well as printing it (`--json <file>`). */
  json: string | undefined;
  /** Echo the servers' and client's output (`--verbose`). */
  verbose: boolean;
  /** Write a `--cpu-prof` profile of the Parley server into this folder (`--cpu-prof <dir>`). */
  cpuProfile: string | undefined;
  /** Rounds of each comparison, alternating the order of the servers (`--rounds <n>`). */
  rounds: number;
  /** Runner only: where to write results and charts (`--out <dir>`). */
  out: string | undefined;
  /** Runner only: run only these benchmarks (`--only fan-out,latency`). */
  only: string[] | undefined;
  /**
   * Runner only: run nothing; recompute goals, summary and charts from the results already in
   * this folder (`--from <dir>`), e.g. after a change to the charts.
   */
  from: string | undefined;
}

/**
 * Parses `process.argv`.
 *
 * @example
 * const options = parseBenchOptions(); // tsx bench/token-fan-out.ts --quick --json out.json
 */
export function parseBenchOptions(argv: readonly string[] = process.argv.slice(2)): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      json: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
      from: { type: 'string' },
    },
    allowPositionals: false,
  });
  const quick = values.quick && !values.full;
  const rounds = values.rounds === undefined ? (quick ? 1 : 2) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error('--rounds must be a whole number ≥ 1');
  return {
    quick,
    json: values.json,
    verbose: values.verbose,
    cpuProfile: values['cpu-prof'],
    rounds,
    out: values.out,
    only: values.only?.split(',').map((name) => name.trim()),
    from: values.from,
  };
}
