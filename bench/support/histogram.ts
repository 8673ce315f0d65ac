/**
 * A fixed-bucket latency histogram: constant memory and no allocation per sample, so a client
 * recording 50,000 frames a second spends its CPU on receiving, not on measuring.
 */

/** Percentiles of one histogram, in milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Samples below zero (clock skew between processes); counted as 0 ms. */
  negative: number;
}

/**
 * A histogram in a form that crosses the IPC channel: only its non-empty buckets. Several client
 * processes' histograms are merged into one before percentiles are read, since percentiles of
 * parts cannot be combined.
 */
export interface SparseHistogram {
  /** [bucket index, count] of every non-empty bucket. */
  buckets: [number, number][];
  count: number;
  sum: number;
  max: number;
  negative: number;
}

/** Resolution of a bucket in milliseconds (10 µs). */
const BUCKET_MS = 0.01;
/** Samples above this land in the last bucket (their exact maximum is still kept). */
const RANGE_MS = 5_000;

/**
 * Records latencies in 10 µs buckets up to 5 s.
 *
 * @example
 * const histogram = new LatencyHistogram();
 * histogram.record(received - sent);
 * histogram.summary().p99;
 */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(Math.ceil(RANGE_MS / BUCKET_MS) + 1);
  private count = 0;
  private sum = 0;
  private max = 0;
  private negative = 0;

  record(ms: number): void {
    let value = ms;
    if (value < 0) {
      this.negative += 1;
      value = 0;
    }
    const bucket = Math.min(this.counts.length - 1, Math.floor(value / BUCKET_MS));
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.count += 1;
    this.sum += value;
    if (value > this.max) this.max = value;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
    this.negative = 0;
  }

  /** The non-empty buckets and totals, to merge in another process. */
  toSparse(): SparseHistogram {
    const buckets: [number, number][] = [];
    this.counts.forEach((count, bucket) => {
      if (count > 0) buckets.push([bucket, count]);
    });
    return { buckets, count: this.count, sum: this.sum, max: this.max, negative: this.negative };
  }

  /** Adds another histogram's samples (from {@link toSparse}). */
  add(other: SparseHistogram): this {
    for (const [bucket, count] of other.buckets) {
      this.counts[bucket] = (this.counts[bucket] ?? 0) + count;
    }
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
    this.negative += other.negative;
    return this;
  }

  /** The value at quantile `q` (0–1): the upper edge of the bucket that holds it. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let bucket = 0; bucket < this.counts.length; bucket += 1) {
      seen += this.counts[bucket] ?? 0;
      if (seen >= rank) return Math.min(this.max, (bucket + 1) * BUCKET_MS);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      mean: this.count === 0 ? 0 : round(this.sum / this.count),
      p50: round(this.quantile(0.5)),
      p90: round(this.quantile(0.9)),
      p99: round(this.quantile(0.99)),
      p999: round(this.quantile(0.999)),
      max: round(this.max),
      negative: this.negative,
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
