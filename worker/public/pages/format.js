// @ts-check
// How the pages write figures: integers with thousands separators (exact, however large), money from integer
// micro-units (1,000,000 = one US dollar: the settlement currency is USD-pegged), prices, latencies and shares.

/** @typedef {import("./exact-json.js").Int} Int */

const MICRO = 1_000_000n;
// Made once: toLocaleString builds a formatter per call, which was most of the time of a page with 500 models.
const INTEGER = new Intl.NumberFormat("en-US");
const PRICE = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 6 });
const AVERAGE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

/**
 * @param {Int} value
 * @returns {bigint}
 */
export function toBigInt(value) {
  return typeof value === "bigint" ? value : BigInt(Math.trunc(value));
}

/**
 * @param {Int} value
 * @returns {string}
 */
export function formatInt(value) {
  return INTEGER.format(toBigInt(value));
}

/**
 * Micro-units as dollars, exactly: at least two decimals, more while they are not zero (at most six).
 * @param {Int} micro
 * @returns {string}
 */
export function formatUsd(micro) {
  const units = toBigInt(micro);
  const sign = units < 0n ? "-" : "";
  const abs = units < 0n ? -units : units;
  const fraction = (abs % MICRO).toString().padStart(6, "0").replace(/0+$/, "").padEnd(2, "0");
  return `${sign}$${INTEGER.format(abs / MICRO)}.${fraction}`;
}

/**
 * Dollars per million tokens, as prices are quoted.
 * @param {number} usd
 * @returns {string}
 */
export function formatPerMillion(usd) {
  if (usd === 0) return "free";
  return `$${PRICE.format(usd)}`;
}

/**
 * A mean, to one decimal at most.
 * @param {number} value
 * @returns {string}
 */
export function formatAverage(value) {
  return AVERAGE.format(value);
}

/**
 * @param {number | null} ms
 * @returns {string}
 */
export function formatMs(ms) {
  if (ms === null) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/**
 * A share of a whole, or a dash when there is no whole.
 * @param {number} part
 * @param {number} whole
 * @returns {string}
 */
export function formatShare(part, whole) {
  if (whole === 0) return "–";
  // Rounded down, so 99.96% reads 99.9% rather than a 100% that hides a failure.
  const share = Math.floor((part / whole) * 1000) / 10;
  return `${Number.isInteger(share) ? share.toFixed(0) : share.toFixed(1)}%`;
}

/**
 * Text made safe to put inside HTML (element content or a quoted attribute): names come from nodes and keys.
 * @param {string} text
 * @returns {string}
 */
export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * One headline figure: a label, the value, and a line saying what it counts.
 * @param {string} name  names the figure for tests and styles (data-figure)
 * @param {string} label
 * @param {string} value
 * @param {string} note
 * @returns {string}
 */
export function figure(name, label, value, note) {
  return (
    `<div class="figure" data-figure="${name}"><div class="label">${escapeHtml(label)}</div>` +
    `<div class="value">${escapeHtml(value)}</div><div class="note">${escapeHtml(note)}</div></div>`
  );
}
