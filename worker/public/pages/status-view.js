// @ts-check
// The status page's markup from GET /v1/mesh/status: counts, the last hour's traffic as two charts, and one row per
// model. Never one row per node, so the page costs the same with 10,000 nodes as with ten.
import { barChart, lineChart } from "./chart.js";
import { escapeHtml, figure, formatAverage, formatInt, formatMs, formatPerMillion, formatShare } from "./format.js";

/**
 * @typedef {object} ModelStatus
 * @property {string} id
 * @property {string} owned_by
 * @property {number} nodes
 * @property {number | null} context_length
 * @property {{ usd_per_million: { prompt: number, completion: number } }} pricing
 * @property {number | null} ttft_ms_p50
 */

/**
 * @typedef {object} TrafficMinute
 * @property {number} start  ms since the epoch
 * @property {number} requests
 * @property {number} succeeded
 */

/**
 * @typedef {object} MeshStatus
 * @property {number} at
 * @property {{ live: number }} nodes
 * @property {ModelStatus[]} models
 * @property {{ minute_ms: number, minutes: TrafficMinute[] }} traffic
 */

/**
 * @param {number} ms
 * @returns {string}
 */
const clock = (ms) => new Date(ms).toISOString().slice(11, 16);

/**
 * The last minute that has ended by `at` (the newest entry is usually the one still filling up).
 * @param {MeshStatus} status
 * @returns {TrafficMinute | undefined}
 */
function lastFullMinute(status) {
  const { minutes, minute_ms } = status.traffic;
  return [...minutes].reverse().find((m) => m.start + minute_ms <= status.at) ?? minutes[minutes.length - 1];
}

/**
 * @param {MeshStatus} status
 * @returns {string}
 */
function figures(status) {
  const minutes = status.traffic.minutes;
  const requests = minutes.reduce((sum, m) => sum + m.requests, 0);
  const succeeded = minutes.reduce((sum, m) => sum + m.succeeded, 0);
  const last = lastFullMinute(status);
  const perMinute = minutes.length > 0 ? requests / minutes.length : 0;
  return (
    figure("live-nodes", "Live nodes", formatInt(status.nodes.live), "serving right now") +
    figure("models", "Models", formatInt(status.models.length), "served by at least one node") +
    figure(
      "requests-per-minute",
      "Requests / minute",
      formatInt(last?.requests ?? 0),
      `last full minute; ${formatAverage(perMinute)} on average over the hour`,
    ) +
    figure(
      "success",
      "Successful answers",
      formatShare(succeeded, requests),
      `of ${formatInt(requests)} sent to nodes in the hour`,
    )
  );
}

/**
 * @param {MeshStatus} status
 * @returns {string}
 */
function trafficCharts(status) {
  const minutes = status.traffic.minutes;
  const first = minutes[0];
  const last = minutes[minutes.length - 1];
  /** @type {[string, string]} */
  const edges = first && last ? [`${clock(first.start)} UTC`, `${clock(last.start)} UTC`] : ["", ""];
  const bars = minutes.map((m) => ({
    value: m.requests,
    title: `${clock(m.start)} UTC: ${formatInt(m.requests)} requests, ${formatInt(m.succeeded)} succeeded`,
  }));
  const max = Math.max(0, ...minutes.map((m) => m.requests));
  const shares = minutes.map((m) => (m.requests > 0 ? m.succeeded / m.requests : null));
  return (
    `<section class="chart-box"><h2>Requests per minute</h2>` +
    barChart(bars, { label: "Requests per minute over the last hour", maxLabel: formatInt(max), edges }) +
    `</section><section class="chart-box"><h2>Successful answers per minute</h2>` +
    lineChart(shares, 1, { label: "Share of successful answers per minute", maxLabel: "100%", edges }) +
    `</section>`
  );
}

/**
 * @param {ModelStatus} m
 * @returns {string}
 */
function modelRow(m) {
  const cells = [
    `<th scope="row">${escapeHtml(m.id)}</th>`,
    `<td class="num" data-column="nodes">${formatInt(m.nodes)}</td>`,
    `<td class="num">${formatPerMillion(m.pricing.usd_per_million.prompt)}</td>`,
    `<td class="num">${formatPerMillion(m.pricing.usd_per_million.completion)}</td>`,
    `<td class="num">${m.context_length === null ? "–" : formatInt(m.context_length)}</td>`,
    `<td class="num">${formatMs(m.ttft_ms_p50)}</td>`,
  ];
  return `<tr data-model="${escapeHtml(m.id)}">${cells.join("")}</tr>`;
}

/**
 * @param {readonly ModelStatus[]} models
 * @returns {string}
 */
function modelTable(models) {
  if (models.length === 0) return `<p class="empty">No live node serves a model right now.</p>`;
  return (
    `<table class="models"><thead><tr><th scope="col">Model</th><th scope="col" class="num">Nodes</th>` +
    `<th scope="col" class="num">Prompt / M tokens</th><th scope="col" class="num">Completion / M tokens</th>` +
    `<th scope="col" class="num">Context</th><th scope="col" class="num">First token (p50)</th></tr></thead>` +
    `<tbody>${models.map(modelRow).join("")}</tbody></table>`
  );
}

/**
 * The whole page body below the header.
 * @param {MeshStatus} status
 * @returns {string}
 */
export function renderStatus(status) {
  return (
    `<section class="figures">${figures(status)}</section>` +
    `<div class="charts">${trafficCharts(status)}</div>` +
    `<section><h2>Models</h2>${modelTable(status.models)}</section>` +
    `<p class="updated">As of ${escapeHtml(new Date(status.at).toISOString().replace("T", " ").slice(0, 19))} UTC</p>`
  );
}
