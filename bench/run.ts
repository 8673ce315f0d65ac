/**
 * `npm run bench` (full) and `npm run bench:quick`: compiles once, runs every benchmark script in
 * turn (each starts its own servers and client and stops by itself), then prints the goals table
 * and a JSON summary, and writes the results and SVG charts to a folder.
 *
 * Options: `--quick`; `--out <dir>`; `--only <name>[,<name>…]` (one benchmark alone, or some:
 * the names are in {@link SCRIPTS}); `--rounds <n>`; `--streams <n>[,<n>…]` and `--clients <n>`
 * (passed to the benchmarks that take them); `--cpu-prof <dir>` (profiles the Parley server in
 * the fan-out and latency benchmarks); `--from <dir>` (runs nothing: recomputes goals, summary
 * and charts of a saved run); `--verbose`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { ConversationMemoryResult } from './conversation-memory.js';
import type { IdleResult } from './idle-connections.js';
import type { LatencyResult } from './moderate-load-latency.js';
import type { ProviderResult } from './provider-latency.js';
import type { ReconnectStormResult } from './reconnect-storm.js';
import type { TokenCostResult } from './token-cost.js';
import type { FanOutResult } from './token-fan-out.js';
import type { ThroughputResult } from './turn-throughput.js';
import { benchScript, ensureBuilt, repositoryRoot } from './support/build.js';
import {
  cpuPerFrameChart,
  latencyChart,
  memoryChart,
  queueChart,
  throughputChart,
  tokenCostChart,
} from './support/charts.js';
import { checkGoals, externalGoals, type RunResults } from './support/goals.js';
import { parseBenchOptions } from './support/options.js';
import { markdownTable, progress } from './support/report.js';

interface BenchmarkScript {
  /** Name for `--only` and the result file. */
  name: string;
  /** Script under `bench/`, without extension. */
  script: string;
  /** Takes `--clients` (and `--streams`, when it has a size to scale). */
  scalable?: true;
  /**
   * Written separately (the event log's own benchmarks): run from source with tsx, only if the
   * file exists, with these arguments; the result is the last JSON object it prints.
   */
  external?: { quick: string[]; full: string[] };
}

const SCRIPTS: BenchmarkScript[] = [
  { name: 'idle', script: 'idle-connections' },
  { name: 'fan-out', script: 'token-fan-out', scalable: true },
  { name: 'throughput', script: 'turn-throughput' },
  { name: 'latency', script: 'moderate-load-latency', scalable: true },
  { name: 'provider', script: 'provider-latency', scalable: true },
  { name: 'token-cost', script: 'token-cost', scalable: true },
  { name: 'reconnect', script: 'reconnect-storm', scalable: true },
  { name: 'conversation-memory', script: 'conversation-memory', scalable: true },
  { name: 'event-log', script: 'event-log-append', external: { quick: ['--quick'], full: [] } },
  { name: 'replay', script: 'replay-speedup', external: { quick: ['--runs', '1'], full: [] } },
];

interface Outcome {
  name: string;
  seconds: number;
  exitCode: number;
  result?: unknown;
}

const options = parseBenchOptions();
const unknown = (options.only ?? []).filter(
  (name) => !SCRIPTS.some((entry) => entry.name === name),
);
if (unknown.length > 0) {
  throw new RangeError(
    `--only: unknown benchmark ${unknown.join(', ')}; expected one or more of ${SCRIPTS.map((entry) => entry.name).join(', ')}`,
  );
}
const root = repositoryRoot();
const mode = options.quick ? 'quick' : 'full';
const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19);
const from = options.from === undefined ? undefined : resolve(options.from);
const out = resolve(
  options.out ??
    from ??
    join(root, 'node_modules', '.cache', 'parley-bench', 'results', `${mode}-${stamp}`),
);
mkdirSync(out, { recursive: true });
const build = from === undefined ? ensureBuilt() : '';

/** Runs one benchmark script, passing its output through, and reads its JSON result. */
function runScript(entry: BenchmarkScript): Promise<Outcome> {
  const json = join(out, `${entry.script}.json`);
  const own = [
    ...(options.quick ? ['--quick'] : []),
    '--json',
    json,
    '--rounds',
    String(options.rounds),
    ...(options.verbose ? ['--verbose'] : []),
    ...((entry.name === 'fan-out' || entry.name === 'latency') && options.cpuProfile !== undefined
      ? ['--cpu-prof', resolve(options.cpuProfile)]
      : []),
    ...(entry.scalable === true && options.streams !== undefined
      ? ['--streams', options.streams.join(',')]
      : []),
    ...(entry.scalable === true && options.clients !== undefined
      ? ['--clients', String(options.clients)]
      : []),
  ];
  const command =
    entry.external === undefined
      ? [benchScript(build, entry.script), ...own]
      : [
          '--import',
          'tsx',
          join(root, 'bench', `${entry.script}.ts`),
          ...(options.quick ? entry.external.quick : entry.external.full),
        ];
  const started = Date.now();
  return new Promise((resolveOutcome) => {
    const child = spawn(process.execPath, command, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      process.stdout.write(chunk);
    });
    child.on('exit', (code) => {
      resolveOutcome({
        name: entry.name,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        exitCode: code ?? 1,
        result: readResult(json, stdout),
      });
    });
  });
}

/** The script's `--json` file, or else the last JSON object it printed (one line or several). */
function readResult(path: string, stdout: string): unknown {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  const lines = stdout.split('\n');
  for (let start = lines.length - 1; start >= 0; start -= 1) {
    if (!(lines[start] ?? '').startsWith('{')) continue;
    for (let end = start; end < lines.length; end += 1) {
      try {
        return JSON.parse(lines.slice(start, end + 1).join('\n')) as unknown;
      } catch {
        // Not a whole object yet: take one more line.
      }
    }
  }
  return undefined;
}

/** A git command's output, or undefined outside a repository (an exported copy). */
function git(...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    return undefined;
  }
}

function pick(record: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => key in record).map((key) => [key, record[key]]));
}

/** Formats JSON the way the repository's Prettier does, so results can be committed as they are. */
async function formatJson(value: unknown, path: string): Promise<string> {
  const text = JSON.stringify(value, null, 2) + '\n';
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(path)) ?? {};
    return await prettier.format(text, { ...config, parser: 'json', filepath: path });
  } catch {
    return text;
  }
}

const selected = SCRIPTS.filter(
  (entry) =>
    (options.only === undefined || options.only.includes(entry.name)) &&
    (entry.external === undefined || existsSync(join(root, 'bench', `${entry.script}.ts`))),
);
const loadBefore = loadavg();
const outcomes: Outcome[] = [];
if (from === undefined) {
  progress(`${mode} run of ${selected.map((entry) => entry.name).join(', ')}; results in ${out}`);
  for (const entry of selected) {
    progress(`── ${entry.script} ──`);
    outcomes.push(await runScript(entry));
  }
} else {
  for (const entry of SCRIPTS) {
    const result = readResult(join(from, `${entry.script}.json`), '');
    if (result !== undefined) outcomes.push({ name: entry.name, seconds: 0, exitCode: 0, result });
  }
}
/** The run's own facts (time, commit, machine) when re-rendering an earlier run with `--from`. */
const earlier =
  from !== undefined && existsSync(join(from, 'summary.json'))
    ? (JSON.parse(readFileSync(join(from, 'summary.json'), 'utf8')) as Record<string, unknown>)
    : {};

const resultOf = (name: string): unknown =>
  outcomes.find((outcome) => outcome.name === name && outcome.exitCode === 0)?.result;
const results: RunResults = {};
if (resultOf('idle') !== undefined) results.idle = resultOf('idle') as IdleResult;
const fanOut = resultOf('fan-out') as Partial<FanOutResult> | undefined;
// A run saved before the fan-out had shapes (before 0dc0a3a) has no `shapes`: its tables stand
// as they were written; only the benchmarks in the current format are re-judged.
if (fanOut !== undefined && Array.isArray(fanOut.shapes)) results.fanOut = fanOut as FanOutResult;
else if (fanOut !== undefined)
  progress('fan-out: saved in the format before shapes: not re-judged');
if (resultOf('throughput') !== undefined) {
  results.throughput = resultOf('throughput') as ThroughputResult;
}
if (resultOf('latency') !== undefined) results.latency = resultOf('latency') as LatencyResult;
if (resultOf('provider') !== undefined) results.provider = resultOf('provider') as ProviderResult;
if (resultOf('token-cost') !== undefined) {
  results.tokenCost = resultOf('token-cost') as TokenCostResult;
}
if (resultOf('reconnect') !== undefined) {
  results.reconnect = resultOf('reconnect') as ReconnectStormResult;
}
if (resultOf('conversation-memory') !== undefined) {
  results.conversationMemory = resultOf('conversation-memory') as ConversationMemoryResult;
}
const goals = [...checkGoals(results), ...externalGoals(resultOf('event-log'), resultOf('replay'))];
const charts: string[] = [];
const writeChart = (name: string, svg: string) => {
  writeFileSync(join(out, name), svg);
  charts.push(name);
};
if (results.idle !== undefined) writeChart('memory.svg', memoryChart(results.idle));
if (results.fanOut !== undefined) {
  writeChart('throughput.svg', throughputChart(results.fanOut));
  writeChart('cpu-per-frame.svg', cpuPerFrameChart(results.fanOut));
}
if (results.latency !== undefined) writeChart('latency.svg', latencyChart(results.latency));
if (results.throughput !== undefined) writeChart('queue.svg', queueChart(results.throughput));
if (results.tokenCost !== undefined && results.tokenCost.steps.length > 0) {
  writeChart('token-cost.svg', tokenCostChart(results.tokenCost));
}

const summary = {
  mode,
  startedAt: startedAt.toISOString(),
  seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  // BENCH_COMMIT names the code when the run happens in an exported copy without .git.
  commit: process.env.BENCH_COMMIT ?? git('rev-parse', '--short', 'HEAD') ?? 'unknown',
  uncommittedFiles:
    process.env.BENCH_COMMIT === undefined
      ? (git('status', '--porcelain')?.split('\n').filter(Boolean).length ?? 0)
      : 0,
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    loadAverageBefore: loadBefore.map((value) => Math.round(value * 100) / 100),
    loadAverageAfter: loadavg().map((value) => Math.round(value * 100) / 100),
  },
  benchmarks: outcomes.map(({ name, seconds, exitCode }) => ({ name, seconds, exitCode })),
  goals,
  ratios: {
    ...(results.idle === undefined ? {} : { idle: results.idle.ratios }),
    ...(results.fanOut === undefined
      ? {}
      : {
          fanOut: Object.fromEntries(
            results.fanOut.shapes.map((entry) => [entry.shape.name, entry.ratios]),
          ),
        }),
    ...(results.latency === undefined ? {} : { latency: results.latency.ratios }),
  },
  external: { eventLog: resultOf('event-log') ?? null, replay: resultOf('replay') ?? null },
  charts,
  ...pick(earlier, [
    'mode',
    'startedAt',
    'seconds',
    'command',
    'commit',
    'uncommittedFiles',
    'machine',
    'benchmarks',
  ]),
};
writeFileSync(join(out, 'summary.json'), await formatJson(summary, join(out, 'summary.json')));
for (const outcome of outcomes) {
  const path = join(
    out,
    `${SCRIPTS.find((entry) => entry.name === outcome.name)?.script ?? outcome.name}.json`,
  );
  if (outcome.result !== undefined) writeFileSync(path, await formatJson(outcome.result, path));
}

const facts = summary as {
  mode: string;
  seconds: number;
  commit: string;
  uncommittedFiles: number;
};
process.stdout.write(
  `\n## Goals (${facts.mode} run, ${facts.seconds} s, commit ${facts.commit}` +
    `${facts.uncommittedFiles > 0 ? ` + ${facts.uncommittedFiles} uncommitted files` : ''})\n\n` +
    markdownTable(
      ['benchmark', 'goal', 'measured', 'met'],
      goals.map((goal) => [goal.benchmark, goal.goal, goal.measured, goal.met ? 'yes' : 'NO']),
    ) +
    `\n\nJSON summary:\n${JSON.stringify({ mode: facts.mode, seconds: facts.seconds, ratios: summary.ratios, goals: goals.map((goal) => ({ goal: goal.goal, measured: goal.measured, met: goal.met })) }, null, 2)}\n` +
    `\nResults and charts: ${relative(process.cwd(), out) || '.'}\n`,
);
const failed = outcomes.filter((outcome) => outcome.exitCode !== 0);
if (failed.length > 0) {
  process.stderr.write(
    `bench: failed: ${failed.map((outcome) => `${outcome.name} (exit ${outcome.exitCode})`).join(', ')}\n`,
  );
  process.exitCode = 1;
}
