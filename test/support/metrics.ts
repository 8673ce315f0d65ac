/**
 * Scrapes `/metrics` and reads it through an independent text-format parser, so a test checks the
 * text a scraper reads, not prom-client's own view of its counters. That Prometheus itself parses
 * the text is promtool's check (test/support/promtool.ts).
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

/** One scrape, parsed. */
export interface Scrape {
  families: ParsedFamily[];
  /** A counter's or gauge's value for exactly these labels (0 when the series is absent). */
  value(name: string, labels?: Record<string, string>): number;
  /** A histogram's count and sum for exactly these labels (0 when absent). */
  histogram(name: string, labels?: Record<string, string>): { count: number; sum: number };
}

/** GETs `/metrics` (with the admin token when given) and parses it. */
export async function scrape(baseUrl: string, token?: string): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parseScrape(await response.text());
}

/** Parses a scrape's text. */
export function parseScrape(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  // The parser folds a histogram with labels into one sample without its labels, count or sum
  // (its flattenMetrics keeps only label-less _count/_sum lines). Read without the histogram
  // TYPE lines, each of _bucket, _sum and _count is a family of its own with its labels.
  const series = parsePrometheusTextFormat(text.replace(/^# TYPE \S+ histogram\n/gm, ''));
  const sample = (name: string, labels: Record<string, string>) =>
    series
      .find((family) => family.name === name)
      ?.metrics.find((metric) => sameLabels(metric.labels ?? {}, labels));
  const value = (name: string, labels: Record<string, string> = {}) =>
    Number(sample(name, labels)?.value ?? 0);
  return {
    families,
    value,
    histogram: (name, labels = {}) => ({
      count: value(`${name}_count`, labels),
      sum: value(`${name}_sum`, labels),
    }),
  };
}

function sameLabels(left: Record<string, string>, right: Record<string, string>): boolean {
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => left[key] === right[key]);
}
