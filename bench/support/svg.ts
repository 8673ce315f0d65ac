/**
 * Two small SVG charts written by hand (no plotting dependency): lines over a numeric x axis,
 * and grouped bars. Enough for docs/PERFORMANCE.md to show memory against connections and
 * throughput side by side.
 */

/** A named series of points. */
export interface Series {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
}

/** A horizontal reference line, e.g. a goal. */
export interface Guide {
  label: string;
  y: number;
}

const WIDTH = 720;
const HEIGHT = 400;
const MARGIN = { top: 48, right: 180, bottom: 56, left: 72 };
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

/**
 * A line chart with markers, axes, a legend and optional guide lines.
 *
 * @example
 * lineChart({ title: 'RSS', xLabel: 'connections', yLabel: 'MiB', series: [{ name: 'ws', color: '#1c7ed6', points: [[0, 50], [1000, 60]] }] });
 */
export function lineChart(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  guides?: readonly Guide[];
}): string {
  const xs = options.series.flatMap((series) => series.points.map(([x]) => x));
  const ys = [
    ...options.series.flatMap((series) => series.points.map(([, y]) => y)),
    ...(options.guides ?? []).map((guide) => guide.y),
  ];
  const xMax = niceCeiling(Math.max(1, ...xs));
  const yMax = niceCeiling(Math.max(1, ...ys) * 1.05);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (value: number) => MARGIN.left + (value / xMax) * plotWidth;
  const y = (value: number) => MARGIN.top + plotHeight - (value / yMax) * plotHeight;
  const parts = [frame(options.title), ...axes(xMax, yMax, x, y, options.xLabel, options.yLabel)];
  for (const guide of options.guides ?? []) {
    parts.push(
      `<line x1="${x(0)}" x2="${x(xMax)}" y1="${y(guide.y)}" y2="${y(guide.y)}" stroke="#868e96" stroke-dasharray="6 4"/>`,
      `<text x="${x(xMax) - 4}" y="${y(guide.y) - 6}" text-anchor="end" font-size="12" fill="#495057" ${FONT}>${escape(guide.label)}</text>`,
    );
  }
  options.series.forEach((series, index) => {
    const path = series.points
      .map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${series.color}" stroke-width="2.5"${series.dashed === true ? ' stroke-dasharray="5 3"' : ''}/>`,
      ...series.points.map(
        ([px, py]) =>
          `<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3.5" fill="${series.color}"/>`,
      ),
      legendEntry(index, series.name, series.color, series.dashed === true),
    );
  });
  return `${parts.join('\n')}\n</svg>\n`;
}

/** One group of bars, e.g. one server. */
export interface BarGroup {
  label: string;
  bars: readonly { name: string; value: number; color: string }[];
}

/**
 * A grouped bar chart with each value printed above its bar.
 *
 * @example
 * barChart({ title: 'Fan-out', yLabel: 'frames/s', groups: [{ label: 'Parley', bars: [{ name: 'round 1', value: 41000, color: '#d9480f' }] }] });
 */
export function barChart(options: {
  title: string;
  yLabel: string;
  groups: readonly BarGroup[];
  guides?: readonly Guide[];
}): string {
  const values = [
    ...options.groups.flatMap((group) => group.bars.map((bar) => bar.value)),
    ...(options.guides ?? []).map((guide) => guide.y),
  ];
  const yMax = niceCeiling(Math.max(1, ...values.filter(Number.isFinite)) * 1.1);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (value: number) => MARGIN.top + plotHeight - (value / yMax) * plotHeight;
  const parts = [frame(options.title), ...axes(0, yMax, () => 0, y, '', options.yLabel, false)];
  const groupWidth = plotWidth / Math.max(1, options.groups.length);
  const legend = new Map<string, string>();
  options.groups.forEach((group, groupIndex) => {
    const barWidth = Math.min(48, (groupWidth * 0.8) / Math.max(1, group.bars.length));
    const start =
      MARGIN.left + groupIndex * groupWidth + (groupWidth - barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, barIndex) => {
      legend.set(bar.name, bar.color);
      const left = start + barIndex * barWidth;
      const value = Number.isFinite(bar.value) ? bar.value : 0;
      parts.push(
        `<rect x="${left.toFixed(1)}" y="${y(value).toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${(y(0) - y(value)).toFixed(1)}" fill="${bar.color}"/>`,
        `<text x="${(left + (barWidth - 4) / 2).toFixed(1)}" y="${(y(value) - 4).toFixed(1)}" text-anchor="middle" font-size="11" fill="#212529" ${FONT}>${shortNumber(value)}</text>`,
      );
    });
    parts.push(
      `<text x="${(MARGIN.left + groupIndex * groupWidth + groupWidth / 2).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 20}" text-anchor="middle" font-size="13" fill="#212529" ${FONT}>${escape(group.label)}</text>`,
    );
  });
  for (const guide of options.guides ?? []) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(guide.y)}" y2="${y(guide.y)}" stroke="#868e96" stroke-dasharray="6 4"/>`,
      `<text x="${WIDTH - MARGIN.right - 4}" y="${y(guide.y) - 6}" text-anchor="end" font-size="12" fill="#495057" ${FONT}>${escape(guide.label)}</text>`,
    );
  }
  [...legend].forEach(([name, color], index) => parts.push(legendEntry(index, name, color)));
  return `${parts.join('\n')}\n</svg>\n`;
}

function frame(title: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="28" font-size="16" font-weight="600" fill="#212529" ${FONT}>${escape(title)}</text>`,
  ].join('\n');
}

function axes(
  xMax: number,
  yMax: number,
  x: (value: number) => number,
  y: (value: number) => number,
  xLabel: string,
  yLabel: string,
  xTicks = true,
): string[] {
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const bottom = HEIGHT - MARGIN.bottom;
  const parts = [
    `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#343a40"/>`,
    `<line x1="${left}" x2="${left}" y1="${MARGIN.top}" y2="${bottom}" stroke="#343a40"/>`,
    `<text transform="translate(18 ${(MARGIN.top + bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="13" fill="#212529" ${FONT}>${escape(yLabel)}</text>`,
  ];
  for (let tick = 0; tick <= 5; tick += 1) {
    const value = (yMax / 5) * tick;
    parts.push(
      `<line x1="${left}" x2="${right}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#e9ecef"/>`,
      `<text x="${left - 8}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#495057" ${FONT}>${shortNumber(value)}</text>`,
    );
  }
  if (xTicks) {
    for (let tick = 0; tick <= 5; tick += 1) {
      const value = (xMax / 5) * tick;
      parts.push(
        `<text x="${x(value).toFixed(1)}" y="${bottom + 18}" text-anchor="middle" font-size="11" fill="#495057" ${FONT}>${shortNumber(value)}</text>`,
      );
    }
    parts.push(
      `<text x="${(left + right) / 2}" y="${HEIGHT - 12}" text-anchor="middle" font-size="13" fill="#212529" ${FONT}>${escape(xLabel)}</text>`,
    );
  }
  return parts;
}

/** A legend entry: a swatch, or for a dashed series a dashed stroke, then the name. */
function legendEntry(index: number, name: string, color: string, dashed = false): string {
  const top = MARGIN.top + 8 + index * 22;
  const left = WIDTH - MARGIN.right + 16;
  return [
    dashed
      ? `<line x1="${left}" x2="${left + 14}" y1="${top - 3}" y2="${top - 3}" stroke="${color}" stroke-width="3" stroke-dasharray="4 2"/>`
      : `<rect x="${left}" y="${top - 10}" width="14" height="14" fill="${color}"/>`,
    `<text x="${left + 20}" y="${top + 1}" font-size="12" fill="#212529" ${FONT}>${escape(name)}</text>`,
  ].join('\n');
}

/** The smallest of 1, 2, 2.5, 5 × 10^n at or above `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((candidate) => candidate * power >= value) ?? 10;
  return step * power;
}

function shortNumber(value: number): string {
  if (Math.abs(value) >= 1_000_000) return `${trim(value / 1_000_000)}M`;
  if (Math.abs(value) >= 1_000) return `${trim(value / 1_000)}k`;
  return trim(value);
}

function trim(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
