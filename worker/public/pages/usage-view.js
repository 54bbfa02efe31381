// @ts-check
// The usage page's markup from GET /v1/usage?group_by=day and ?group_by=model: the key's totals, spend per day as a
// chart, and both groupings as tables. Figures may be BigInts (exact-json.js); costs are integer micro-units.
import { barChart } from "./chart.js";
import { escapeHtml, figure, formatInt, formatUsd, toBigInt } from "./format.js";

/** @typedef {import("./exact-json.js").Int} Int */

/**
 * @typedef {object} UsageTotals
 * @property {Int} requests
 * @property {Int} prompt_tokens
 * @property {Int} completion_tokens
 * @property {Int} total_tokens
 * @property {Int} cost
 */

/** @typedef {UsageTotals & { day?: string, model?: string }} UsageGroup */

/**
 * @typedef {object} UsageReport
 * @property {UsageTotals} totals
 * @property {UsageGroup[]} data
 */

/** The chart shows at most this many days, the newest, and at least MIN_CHART_DAYS (ending on the last). */
export const CHART_DAYS = 90;
const MIN_CHART_DAYS = 14;
const DAY_MS = 86_400_000;

/**
 * Every day from the first with usage to the last, those without usage at zero: at least MIN_CHART_DAYS (so a new
 * key's one day is one bar of a fortnight, not the whole width) and at most CHART_DAYS of them.
 * @param {readonly UsageGroup[]} days  in order, named YYYY-MM-DD
 * @returns {{ day: string, cost: bigint }[]}
 */
export function dailySpend(days) {
  const cost = new Map(days.map((d) => [d.day ?? "", toBigInt(d.cost)]));
  const first = days[0]?.day;
  const last = days[days.length - 1]?.day;
  if (first === undefined || last === undefined) return [];
  const end = Date.parse(`${last}T00:00:00Z`);
  const firstMs = Math.min(Date.parse(`${first}T00:00:00Z`), end - (MIN_CHART_DAYS - 1) * DAY_MS);
  const start = Math.max(firstMs, end - (CHART_DAYS - 1) * DAY_MS);
  /** @type {{ day: string, cost: bigint }[]} */
  const out = [];
  for (let t = start; t <= end; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push({ day, cost: cost.get(day) ?? 0n });
  }
  return out;
}

/**
 * @param {UsageTotals} t
 * @returns {string}
 */
function figures(t) {
  return (
    figure("spend", "Spend", formatUsd(t.cost), "in the range") +
    figure("requests", "Requests", formatInt(t.requests), "answered and metered") +
    figure(
      "tokens",
      "Tokens",
      formatInt(t.total_tokens),
      `${formatInt(t.prompt_tokens)} prompt, ${formatInt(t.completion_tokens)} completion`,
    )
  );
}

/**
 * @param {readonly UsageGroup[]} days
 * @returns {string}
 */
function spendChart(days) {
  const series = dailySpend(days);
  const first = series[0];
  const last = series[series.length - 1];
  if (!first || !last) return "";
  // Bar heights only: a Number is exact enough to draw with, and the titles keep the exact figures.
  const bars = series.map((d) => ({ value: Number(d.cost), title: `${d.day}: ${formatUsd(d.cost)}` }));
  let max = 0n;
  for (const d of series) if (d.cost > max) max = d.cost;
  return (
    `<section class="chart-box"><h2>Spend per day</h2>` +
    barChart(bars, {
      label: "Spend per day",
      maxLabel: formatUsd(max),
      edges: [first.day, last.day],
      // The chart spans the page here, not half of it as on the status page: a wider box keeps its text small.
      width: 1100,
      height: 140,
    }) +
    `</section>`
  );
}

/**
 * @param {UsageTotals} t
 * @returns {string}
 */
function sumCells(t) {
  return [t.requests, t.prompt_tokens, t.completion_tokens, t.total_tokens]
    .map((v) => `<td class="num">${formatInt(v)}</td>`)
    .concat(`<td class="num">${formatUsd(t.cost)}</td>`)
    .join("");
}

/**
 * @param {string} title
 * @param {"day" | "model"} by
 * @param {UsageReport} report
 * @returns {string}
 */
function groupTable(title, by, report) {
  if (report.data.length === 0) return `<section><h2>${title}</h2><p class="empty">No usage yet.</p></section>`;
  const head = ["Requests", "Prompt tokens", "Completion tokens", "Total tokens", "Spend"]
    .map((h) => `<th scope="col" class="num">${h}</th>`)
    .join("");
  const rows = report.data.map(
    (g) =>
      `<tr data-${by}="${escapeHtml(g[by] ?? "")}"><th scope="row">${escapeHtml(g[by] ?? "")}</th>${sumCells(g)}</tr>`,
  );
  return (
    `<section><h2>${title}</h2><table class="usage" data-by="${by}"><thead><tr><th scope="col">${by === "day" ? "Day (UTC)" : "Model"}</th>` +
    `${head}</tr></thead><tbody>${rows.join("")}</tbody>` +
    `<tfoot><tr><th scope="row">Total</th>${sumCells(report.totals)}</tr></tfoot></table></section>`
  );
}

/**
 * @param {UsageReport} byDay
 * @param {UsageReport} byModel
 * @returns {string}
 */
export function renderUsage(byDay, byModel) {
  return (
    `<section class="figures">${figures(byDay.totals)}</section>` +
    spendChart(byDay.data) +
    groupTable("By model", "model", byModel) +
    groupTable("By day", "day", byDay)
  );
}
