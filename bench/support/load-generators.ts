/**
 * Several load-generating client processes driven as one: connections are split between them by
 * conversation, and their reports merged (histograms bucket by bucket, so the percentiles are of
 * every sample). One client process saturated by receiving would make a benchmark measure the
 * load generator instead of the server; each process's CPU is reported, and a process above
 * {@link SATURATED_PERCENT} of a core is flagged.
 */
import type {
  HISTOGRAMS,
  RawClientReport,
  SseStartRequest,
  StartRequest,
  Transport,
} from '../clients/client-protocol.js';
import { benchScript } from './build.js';
import { startChild, type BenchChild } from './child-process.js';
import { LatencyHistogram, type LatencySummary } from './histogram.js';
import type { ProcessUsage } from './usage.js';

/** A client process above this share of one core is saturated: its figures bound the server's. */
export const SATURATED_PERCENT = 85;

/** Tokens per second of single turns (first to last chunk), over the turns of a window. */
export interface TurnRateSummary {
  count: number;
  min: number;
  p5: number;
  p50: number;
}

/** The merged report of every client process for one window. */
export interface ClientReport {
  seconds: number;
  frames: number;
  tokens: number;
  turns: number;
  tokenLatency: LatencySummary;
  frameLatency: LatencySummary;
  turnWait: LatencySummary;
  turnService: LatencySummary;
  turnRate: TurnRateSummary;
  busy: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  /** CPU of all client processes together, in percent of one core. */
  cpuPercent: number;
  /** Each client process's CPU, in percent of one core. */
  cpuPercents: number[];
  /** Client processes above {@link SATURATED_PERCENT}. */
  saturatedClients: number;
  /** The worst client's event-loop delay. */
  loopDelay: ProcessUsage['loopDelay'];
  open: number;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.floor(q * (sorted.length - 1))] ?? 0);
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** Merges the reports of one window from every client process. */
export function mergeReports(reports: readonly RawClientReport[]): ClientReport {
  const merged = (name: (typeof HISTOGRAMS)[number]) => {
    const histogram = new LatencyHistogram();
    for (const report of reports) histogram.add(report.histograms[name]);
    return histogram.summary();
  };
  const rates = reports.flatMap((report) => report.turnRates).sort((a, b) => a - b);
  const errors: Record<string, number> = {};
  const closes: Record<string, number> = {};
  for (const report of reports) {
    addCounts(errors, report.errors);
    addCounts(closes, report.closes);
  }
  const sum = (pick: (report: RawClientReport) => number) =>
    reports.reduce((total, report) => total + pick(report), 0);
  const cpuPercents = reports.map((report) => report.cpuPercent);
  return {
    seconds: Math.max(...reports.map((report) => report.seconds)),
    frames: sum((report) => report.frames),
    tokens: sum((report) => report.tokens),
    turns: sum((report) => report.turns),
    tokenLatency: merged('tokenLatency'),
    frameLatency: merged('frameLatency'),
    turnWait: merged('turnWait'),
    turnService: merged('turnService'),
    turnRate: {
      count: rates.length,
      min: round1(rates[0] ?? 0),
      p5: round1(quantile(rates, 0.05)),
      p50: round1(quantile(rates, 0.5)),
    },
    busy: sum((report) => report.busy),
    errors,
    closes,
    cpuPercent: round1(sum((report) => report.cpuPercent)),
    cpuPercents,
    saturatedClients: cpuPercents.filter((percent) => percent > SATURATED_PERCENT).length,
    loopDelay: reports
      .map((report) => report.loopDelay)
      .reduce((worst, each) => (each.p99 > worst.p99 ? each : worst)),
    open: sum((report) => report.open),
  };
}

/** Where to connect and how many. */
export interface ConnectSpec {
  transport: Transport;
  port: number;
  /** Conversations `first` ≤ c < `first + conversations`. */
  conversations: number;
  firstConversation?: number;
  participants: number;
  /** Handshakes in flight at once, per client process. @default 50 */
  concurrency?: number;
}

/** Splits `total` items into `parts` nearly equal consecutive ranges. */
function split(total: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, part): [number, number] => [
    Math.floor((total * part) / parts),
    Math.floor((total * (part + 1)) / parts),
  ]);
}

/**
 * Client processes that act as one load generator.
 *
 * @example
 * const clients = LoadGenerators.start(build, 2);
 * await clients.connect({ transport: 'ws', port, conversations: 100, participants: 10 });
 */
export class LoadGenerators {
  private constructor(readonly children: BenchChild[]) {}

  /** Starts `count` client processes. */
  static start(build: string, count: number, verbose = false): LoadGenerators {
    return new LoadGenerators(
      Array.from({ length: count }, (_, index) =>
        startChild({
          name: `bench client ${index + 1}`,
          script: benchScript(build, 'clients/bench-client'),
          verbose,
        }),
      ),
    );
  }

  private all<TResult>(message: { type: string; [key: string]: unknown }, timeoutMs?: number) {
    return Promise.all(this.children.map((child) => child.request<TResult>(message, timeoutMs)));
  }

  /** Opens the connections, each client process taking a share of the conversations. */
  async connect(spec: ConnectSpec): Promise<{ open: number; failed: number; seconds: number }> {
    const first = spec.firstConversation ?? 0;
    const parts = split(spec.conversations, this.children.length);
    const results = await Promise.all(
      this.children.map((child, index) => {
        const [from, to] = parts[index] ?? [0, 0];
        return child.request<{ open: number; failed: number; seconds: number }>(
          {
            type: 'connect',
            transport: spec.transport,
            port: spec.port,
            from: (first + from) * spec.participants,
            to: (first + to) * spec.participants,
            participants: spec.participants,
            concurrency: spec.concurrency ?? 50,
          },
          600_000,
        );
      }),
    );
    return {
      open: results.reduce((sum, result) => sum + result.open, 0),
      failed: results.reduce((sum, result) => sum + result.failed, 0),
      seconds: Math.max(...results.map((result) => result.seconds)),
    };
  }

  /** Starts every driver not started yet. */
  async start(request: StartRequest): Promise<void> {
    await this.all({ type: 'start', ...request });
  }

  /** Reads `streams` SSE answers at once, directly from the model server. */
  async sseStart(request: SseStartRequest): Promise<void> {
    const parts = split(request.streams, this.children.length);
    await Promise.all(
      this.children.map((child, index) => {
        const [from, to] = parts[index] ?? [0, 0];
        return child.request({ ...request, type: 'sse-start', streams: to - from });
      }),
    );
  }

  async mark(): Promise<void> {
    await this.all({ type: 'mark' });
  }

  async report(): Promise<ClientReport> {
    return mergeReports(await this.all<RawClientReport>({ type: 'report' }));
  }

  async usage(): Promise<ProcessUsage[]> {
    return this.all<ProcessUsage>({ type: 'usage' });
  }

  /** Stops asking; resolves with the turns still in flight after `drainMs`. */
  async stop(drainMs: number): Promise<number> {
    const results = await this.all<{ inFlight: number }>(
      { type: 'stop', drainMs },
      drainMs + 30_000,
    );
    return results.reduce((sum, result) => sum + result.inFlight, 0);
  }

  /** Waits until every driver completed `turns` turns; resolves with the drivers still behind. */
  async waitForTurns(turns: number, timeoutMs: number): Promise<number> {
    const results = await this.all<{ behind: number }>(
      { type: 'wait-turns', turns, timeoutMs },
      timeoutMs + 30_000,
    );
    return results.reduce((sum, result) => sum + result.behind, 0);
  }

  async close(): Promise<void> {
    await this.all({ type: 'close' });
  }

  async shutdown(graceMs = 5_000): Promise<void> {
    await Promise.all(this.children.map((child) => child.stop(graceMs)));
  }
}
