/**
 * What the benchmark scripts ask of a load-generating client process (`bench-client.ts`) and what
 * it answers, over the IPC channel.
 */
import type { SparseHistogram } from '../support/histogram.js';
import type { ProcessUsage } from '../support/usage.js';
import type { Transport } from './open-connection.js';

export type { Transport } from './open-connection.js';

/** `connect`: open connections `from` ≤ index < `to`; index i joins conversation ⌊i / participants⌋. */
export interface ConnectRequest {
  transport: Transport;
  port: number;
  from: number;
  to: number;
  participants: number;
  /** Handshakes in flight at once. */
  concurrency: number;
}

/** `start`: each conversation's first participant sends `content`, and again after each answer. */
export interface StartRequest {
  content: string;
  /** Spread the first messages over this long, so conversations do not move in lockstep. */
  staggerMs: number;
  /** After a `busy` error, send again after this long. */
  retryBusyMs: number;
  /** Turns each driver asks for before it stops; 0 for no limit. @default 0 */
  maxTurns?: number;
}

/** `sse-start`: read `streams` SSE answers at once from the model server, closed loop. */
export interface SseStartRequest {
  port: number;
  streams: number;
  staggerMs: number;
}

/** The histograms a load generator keeps; merged across processes before percentiles are read. */
export const HISTOGRAMS = ['tokenLatency', 'frameLatency', 'turnWait', 'turnService'] as const;

/** What `report` returns: everything received since the last `mark`. */
export interface RawClientReport {
  seconds: number;
  /** Frames received by all participants (SSE: tokens read). */
  frames: number;
  /** Chunk frames received by the participant who asked: tokens produced by the model. */
  tokens: number;
  /** Turns completed (as seen by the participant who asked). */
  turns: number;
  /**
   * Histograms, in ms: `tokenLatency` from the model's stamp to the participant; `frameLatency`
   * from the frame's `timestamp` (whole ms, server clock); `turnWait` from sending a message to
   * its turn's `typing_indicator`; `turnService` from that to the turn's completion.
   */
  histograms: Record<(typeof HISTOGRAMS)[number], SparseHistogram>;
  /** Tokens per second of each turn completed in the window (first to last chunk). */
  turnRates: number[];
  busy: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  cpuPercent: number;
  loopDelay: ProcessUsage['loopDelay'];
  open: number;
}
