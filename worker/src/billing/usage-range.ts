// Which parts of a usage range come from the daily roll-ups and which from per-request rows.
//
// Decision: the whole UTC days inside [from, to) are read from the roll-ups (one row per day, model and node, kept
// for ever), and only the partial days at either end from the per-request rows. A range of whole days is thus read
// from roll-ups alone, cheap however long; a range that starts or ends mid-day needs the rows of those partial days,
// so such an end must lie within the retention (else 400, explaining it). The default range (from the epoch to now)
// is every whole day from roll-ups plus today's rows, always answerable.
import { DAY_MS, startOfDay } from "./retention.js";

export interface Span {
  from: number;
  to: number;
}

export interface RangePlan {
  /** Whole UTC days, answered from the roll-ups; null when the range holds no whole day. */
  days: Span | null;
  /** The partial days at either end, answered from per-request rows. */
  edges: Span[];
}

export function planRange(from: number, to: number): RangePlan {
  const firstDay = startOfDay(from + DAY_MS - 1);
  const lastDay = startOfDay(to);
  if (firstDay >= lastDay) return { days: null, edges: from < to ? [{ from, to }] : [] };
  const edges: Span[] = [];
  if (from < firstDay) edges.push({ from, to: firstDay });
  if (lastDay < to) edges.push({ from: lastDay, to });
  return { days: { from: firstDay, to: lastDay }, edges };
}

export interface RangeProblem {
  param: "from" | "to";
  message: string;
}

/** Why the rows a plan needs may be gone (they are kept since `keptSince`, for `days` days), or null. */
export function retentionProblem(plan: RangePlan, keptSince: number, days: number): RangeProblem | null {
  const early = plan.edges.find((e) => e.from < keptSince);
  if (!early) return null;
  // An early edge at the start of the range is `from`'s fault; one at the end (the range has no later whole day) is
  // `to`'s.
  const param = plan.days !== null && early.from >= plan.days.to ? "to" : "from";
  const since = new Date(keptSince).toISOString();
  return {
    param,
    message:
      `Per-request usage is kept for ${days} days (since ${since}): a range reaching back further must start and end ` +
      "at midnight UTC, whole days being answered from daily totals.",
  };
}
