// Instants a client names (a usage range, a settlement period): unix seconds in digits or an ISO 8601 date/time.
//
// Decision: both ways reach exactly as far as 12 digits of unix seconds (year 33658). Date.parse reads ISO dates up
// to ±8.64e15 ms, where adding anything (a settlement delay) or printing the sum throws; this bound keeps every
// instant, and every delay of at most 12 digits of ms added to one, a valid Date.

/** The latest instant accepted, and the earliest negated: 999,999,999,999 unix seconds, in ms. */
export const MAX_INSTANT_MS = 999_999_999_999_000;

/** ms since the epoch; null when unreadable or beyond ±MAX_INSTANT_MS. A number is unix seconds. */
export function instantMs(value: number | string): number | null {
  const ms =
    typeof value === "number" ? value * 1000 : /^\d{1,12}$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  return Number.isSafeInteger(ms) && Math.abs(ms) <= MAX_INSTANT_MS ? ms : null;
}
