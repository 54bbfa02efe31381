// Parses `--since DATE`: unix seconds, or an ISO 8601 date or date-time (UTC unless it names an offset).
import { UsageError } from "./usage-error.js";

const SECONDS = /^\d{1,12}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** ms since the epoch. */
export function parseSince(text: string): number {
  if (SECONDS.test(text)) return Number(text) * 1000;
  // A date-time without an offset would be read as local time: make it UTC, as the gateway reads it.
  const utc = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::[\d.]+)?$/.test(text) ? `${text}Z` : text;
  const ms = ISO_DATE.test(text) ? Date.parse(utc.replace(" ", "T")) : Number.NaN;
  if (Number.isNaN(ms))
    throw new UsageError(
      `--since must be unix seconds or an ISO 8601 date, e.g. 2026-05-01 or 2026-05-01T12:00:00Z, got ${JSON.stringify(text)}`,
    );
  return ms;
}
