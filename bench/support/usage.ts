/**
 * Resource readings of the current process: CPU time, memory (optionally after a forced GC) and
 * event-loop delay. A loop delay p99 in the tens of milliseconds means the process was saturated.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { setTimeout as delay, setImmediate as nextTurn } from 'node:timers/promises';

/** A process's resource readings. */
export interface ProcessUsage {
  /** Microseconds of CPU (user + system) since the process started. */
  cpuMicros: number;
  /** `process.memoryUsage()` in bytes. */
  memory: NodeJS.MemoryUsage;
  /** Event-loop delay since the last {@link resetLoopDelay}, in ms. */
  loopDelay: { p50: number; p99: number; max: number };
  /** Wall-clock ms when read. */
  at: number;
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

/** Starts a new window for the event-loop delay figures. */
export function resetLoopDelay(): void {
  loopDelay.reset();
}

/** Reads CPU, memory and event-loop delay. */
export function readUsage(): ProcessUsage {
  const cpu = process.cpuUsage();
  return {
    cpuMicros: cpu.user + cpu.system,
    memory: process.memoryUsage(),
    loopDelay: {
      p50: loopDelay.percentile(50) / 1e6,
      p99: loopDelay.percentile(99) / 1e6,
      max: loopDelay.max / 1e6,
    },
    at: Date.now(),
  };
}

/**
 * Collects garbage until the heap stops shrinking (needs `--expose-gc`), then reads usage once
 * RSS has settled. A turn of the event loop between rounds lets weak references and finalizers
 * let go. RSS read right after a compacting GC still counts the pages it evacuated, which V8
 * releases from a background thread: up to 40 MiB more, for a few hundred milliseconds, at 10,000
 * connections. So RSS is read every 100 ms until it stops falling (at most 2 s).
 */
export async function measureAfterGc(): Promise<ProcessUsage> {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('start the process with --expose-gc');
  let previous = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 10; round += 1) {
    collect();
    await nextTurn();
    const used = process.memoryUsage().heapUsed;
    if (used >= previous * 0.999) break;
    previous = used;
  }
  let rss = process.memoryUsage.rss();
  for (let waited = 0; waited < 2_000; waited += RSS_SETTLE_STEP_MS) {
    await delay(RSS_SETTLE_STEP_MS);
    const next = process.memoryUsage.rss();
    if (next > rss - 2 ** 19) break;
    rss = next;
  }
  return readUsage();
}

const RSS_SETTLE_STEP_MS = 100;

/** CPU use between two readings, in percent of one core. */
export function cpuPercent(from: ProcessUsage, to: ProcessUsage): number {
  const wallMicros = (to.at - from.at) * 1000;
  return wallMicros <= 0
    ? 0
    : Math.round(((to.cpuMicros - from.cpuMicros) / wallMicros) * 1000) / 10;
}

/** CPU time of the whole machine, from `/proc/stat` (Linux), in clock ticks. */
export interface MachineCpu {
  busy: number;
  total: number;
  at: number;
}

/** Reads the machine's CPU counters; zeros where `/proc/stat` does not exist. */
export function readMachineCpu(): MachineCpu {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    // idle and iowait are the 4th and 5th fields.
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total, at: Date.now() };
  } catch {
    return { busy: 0, total: 0, at: Date.now() };
  }
}

/**
 * The whole machine's CPU use between two readings, in percent of one core (200 = both cores
 * of a 2-core machine busy). Other people's processes show up here and nowhere else.
 */
export function machineCpuPercent(from: MachineCpu, to: MachineCpu): number {
  const seconds = (to.at - from.at) / 1000;
  if (seconds <= 0 || to.total === 0) return Number.NaN;
  const ticksPerSecond = 100; // USER_HZ on Linux
  return Math.round(((to.busy - from.busy) / ticksPerSecond / seconds) * 1000) / 10;
}
