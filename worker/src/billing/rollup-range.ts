// Which ranges the admin report (every key's usage, from the global roll-up) can answer exactly. The roll-up keeps
// hourly sums for as long as usage rows are kept and daily sums before that, so a range must start and end on whole
// UTC hours, and on whole days where it reaches before the retention. An end within the current hour (or later) is
// fine: the current hour counts up to the cells' latest flush. The default range (the epoch to now) always fits.
import { DAY_MS } from "./retention.js";
import { HOUR_MS, startOfHour } from "./rollup-sums.js";
import type { RangeProblem } from "./usage-range.js";

/** Why [from, to) cannot be summed from the roll-up (hourly rows kept since `keptSince`, for `days` days), or null. */
export function rollupRangeProblem(
  range: { from: number; to: number },
  now: number,
  keptSince: number,
  days: number,
): RangeProblem | null {
  const ends = [
    { param: "from" as const, at: range.from, open: false },
    // The end of a range that reaches into the current hour is "up to now", whatever minute it names.
    { param: "to" as const, at: range.to, open: range.to >= startOfHour(now) },
  ];
  for (const { param, at, open } of ends) {
    if (open) continue;
    if (at < keptSince && at % DAY_MS !== 0) {
      const since = new Date(keptSince).toISOString();
      return {
        param,
        message:
          `Hourly usage totals are kept for ${days} days (since ${since}): a range across all keys reaching back ` +
          "further must start and end at midnight UTC, whole days being answered from daily totals.",
      };
    }
    if (at % HOUR_MS !== 0)
      return {
        param,
        message: `Usage across all keys is summed by the hour: \`${param}\` must be a whole UTC hour (minutes and seconds 0), or within the current hour for \`to\`.`,
      };
  }
  return null;
}
