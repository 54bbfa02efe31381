// How long per-request usage rows are kept. Rows are what a client lists and what a range that starts or ends mid-day
// is summed from; the daily roll-ups are kept for ever, so any range of whole UTC days stays answerable after its
// rows are gone (see usage-range.ts). Spend logs that keep every row grow without bound; a day's roll-up is one row
// per model and node.

export const DAY_MS = 86_400_000;
export const DEFAULT_RETENTION_DAYS = 90;

/** USAGE_RETENTION_DAYS: a whole number of days, at least 1; absent or unreadable means the default. */
export function retentionDays(raw: string | undefined): number {
  const text = raw?.trim() ?? "";
  const days = /^\d{1,6}$/.test(text) ? Number(text) : 0;
  return days >= 1 ? days : DEFAULT_RETENTION_DAYS;
}

export function startOfDay(ms: number): number {
  return ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
}

/**
 * Rows created at or after this are all still there: the alarm deletes rows older than this bound as computed at
 * its own (earlier) time, which is never later than this one.
 */
export function rowsKeptSince(now: number, days: number): number {
  return startOfDay(now - days * DAY_MS);
}
