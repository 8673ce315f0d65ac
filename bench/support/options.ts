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
  /**
   * Concurrent streams (provider), or the steps of stream counts (token cost), e.g.
   * `--streams 100` or `--streams 50,100,200` (`--streams`); the benchmark's own when absent.
   */
  streams: number[] | undefined;
  /** Load-generating client processes (`--clients <n>`); the benchmark's own when absent. */
  clients: number | undefined;
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
      streams: { type: 'string' },
      clients: { type: 'string' },
    },
    allowPositionals: false,
  });
  const quick = values.quick && !values.full;
  const rounds = values.rounds === undefined ? (quick ? 1 : 2) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new RangeError('--rounds must be a whole number ≥ 1');
  const streams = values.streams?.split(',').map((text) => Number(text.trim()));
  if (streams?.some((count) => !Number.isInteger(count) || count < 1) === true) {
    throw new RangeError('--streams must be whole numbers ≥ 1, separated by commas');
  }
  const clients = values.clients === undefined ? undefined : Number(values.clients);
  if (clients !== undefined && (!Number.isInteger(clients) || clients < 1)) {
    throw new RangeError('--clients must be a whole number ≥ 1');
  }
  return {
    quick,
    streams,
    clients,
    json: values.json,
    verbose: values.verbose,
    cpuProfile: values['cpu-prof'],
    rounds,
    out: values.out,
    only: values.only?.split(',').map((name) => name.trim()),
    from: values.from,
  };
}
