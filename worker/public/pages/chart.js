// @ts-check
// Small charts as inline SVG markup: bars (one per day or minute) and a line with gaps (a share per minute). No
// library: a few rectangles and a polyline, scaled to a viewBox; CSS sizes them (style.css, .chart).
import { escapeHtml } from "./format.js";

/**
 * @typedef {object} Bar
 * @property {number} value
 * @property {string} title  the tooltip: the bar's label and value, written out
 */

/**
 * @typedef {object} ChartOptions
 * @property {string} label  what the chart shows, for screen readers
 * @property {string} maxLabel  the top of the scale, written out (e.g. "$1.20", "100%")
 * @property {readonly [string, string]} edges  under the left and right ends (e.g. the first and last day)
 * @property {number} [width]
 * @property {number} [height]
 */

const PAD = { top: 14, bottom: 16 };

/**
 * @param {ChartOptions} opts
 * @param {string} body
 * @returns {string}
 */
function frame(opts, body) {
  const width = opts.width ?? 600;
  const height = opts.height ?? 120;
  const base = height - PAD.bottom;
  return (
    `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(opts.label)}">` +
    `<text class="scale" x="0" y="10">${escapeHtml(opts.maxLabel)}</text>` +
    `<line class="axis" x1="0" y1="${base}" x2="${width}" y2="${base}"></line>${body}` +
    `<text class="label" x="0" y="${height - 3}">${escapeHtml(opts.edges[0])}</text>` +
    `<text class="label" x="${width}" y="${height - 3}" text-anchor="end">${escapeHtml(opts.edges[1])}</text></svg>`
  );
}

/**
 * @param {readonly Bar[]} bars
 * @param {ChartOptions} opts
 * @returns {string}
 */
export function barChart(bars, opts) {
  const width = opts.width ?? 600;
  const height = opts.height ?? 120;
  const inner = height - PAD.top - PAD.bottom;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const step = width / Math.max(1, bars.length);
  const gap = step > 6 ? 1 : 0;
  const rects = bars.map((b, i) => {
    const h = max > 0 ? Math.max(b.value > 0 ? 1 : 0, (b.value / max) * inner) : 0;
    const y = PAD.top + inner - h;
    return (
      `<rect class="bar" x="${(i * step).toFixed(2)}" y="${y.toFixed(2)}" width="${(step - gap).toFixed(2)}" ` +
      `height="${h.toFixed(2)}"><title>${escapeHtml(b.title)}</title></rect>`
    );
  });
  return frame(opts, rects.join(""));
}

/**
 * A line from 0 to `max`, broken where a point is null (no data for that step).
 * @param {readonly (number | null)[]} points
 * @param {number} max
 * @param {ChartOptions} opts
 * @returns {string}
 */
export function lineChart(points, max, opts) {
  const width = opts.width ?? 600;
  const height = opts.height ?? 120;
  const inner = height - PAD.top - PAD.bottom;
  const step = width / Math.max(1, points.length - 1);
  /** @type {string[][]} */
  const runs = [[]];
  points.forEach((p, i) => {
    if (p === null) {
      if ((runs[runs.length - 1] ?? []).length > 0) runs.push([]);
      return;
    }
    const y = PAD.top + inner - (Math.min(p, max) / max) * inner;
    runs[runs.length - 1]?.push(`${(i * step).toFixed(2)},${y.toFixed(2)}`);
  });
  const lines = runs
    .filter((r) => r.length > 0)
    .map((r) =>
      r.length === 1
        ? `<circle class="dot" cx="${r[0]?.split(",")[0]}" cy="${r[0]?.split(",")[1]}" r="2"></circle>`
        : `<polyline class="line" points="${r.join(" ")}"></polyline>`,
    );
  return frame(opts, lines.join(""));
}
