/**
 * Prometheus's own `promtool check metrics`, for tests that a scrape is what Prometheus reads:
 * the Go text-format parser Prometheus scrapes with, and its metric-name lints. Needs the
 * `promtool` binary (Debian's `prometheus` package, which .ci/run installs); without it suites
 * skip outside CI and fail in CI, as in services.ts.
 */
import { execFile, spawn } from 'node:child_process';
import { describe } from 'vitest';
import { reason, skipOrFail, type ServiceProbe } from './services.js';

const PROMTOOL = 'promtool';

/** What `promtool check metrics` said of one scrape. */
export interface PromtoolCheck {
  /** 0: clean; 3: parsed, with lint findings; 1: the text did not parse. */
  exitCode: number | null;
  /** Parse failures (`error while linting: text format parsing error in line …`). */
  errors: string[];
  /** Lint findings, one a line: `<metric> <problem>`. */
  findings: string[];
}

/** What a promtool suite gets. */
export interface PromtoolService {
  /** Pipes a scrape's text to `promtool check metrics`. */
  checkMetrics(text: string): Promise<PromtoolCheck>;
}

let promtoolProbe: Promise<ServiceProbe> | undefined;

/** Whether `promtool` runs here (probed once per test file). */
export function probePromtool(): Promise<ServiceProbe> {
  promtoolProbe ??= new Promise((resolve) => {
    execFile(PROMTOOL, ['--version'], (error) => {
      resolve(
        error === null
          ? { url: PROMTOOL }
          : {
              url: PROMTOOL,
              missing: `${PROMTOOL} cannot run (install it with: apt-get install -y prometheus): ${reason(error)}`,
            },
      );
    });
  });
  return promtoolProbe;
}

/**
 * Declares a suite that checks text with `promtool`: skipped with a one-line reason when it is
 * absent outside CI, failing in CI.
 *
 * @example
 * describeWithPromtool(await probePromtool(), 'promtool', (promtool) => {
 *   it('...', async () => { expect((await promtool.checkMetrics(text)).errors).toEqual([]); });
 * });
 */
export function describeWithPromtool(
  probe: ServiceProbe,
  name: string,
  body: (service: PromtoolService) => void,
): void {
  if (probe.missing !== undefined) {
    skipOrFail(probe.missing, name);
    return;
  }
  describe(name, () => {
    body({ checkMetrics });
  });
}

function checkMetrics(text: string): Promise<PromtoolCheck> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      // promtool writes both kinds to stderr; a parse failure is the one that says "error".
      const lines = output.split('\n').filter((line) => line.trim() !== '');
      const isError = (line: string) => line.startsWith('error') || line.includes('parsing error');
      resolve({
        exitCode,
        errors: lines.filter(isError),
        findings: lines.filter((line) => !isError(line)),
      });
    });
    child.stdin.end(text);
  });
}
