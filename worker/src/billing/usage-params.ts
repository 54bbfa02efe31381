// The query string of the usage endpoints: ?from=&to=&group_by=&format=&limit=. Every bad value is refused, naming it
// (the client gets a 400).
import { instantMs } from "../lib/instant.js";
import { queryInt } from "../lib/query-int.js";
import { invalid, ok, refuse, type Invalid, type Result } from "../lib/refusal.js";

export const DEFAULT_LIMIT = 1_000;
export const MAX_LIMIT = 10_000;

export type UsageFormat = "json" | "csv";

export interface UsageParams<G extends string> {
  /** ms since the epoch, [from, to). */
  from: number;
  to: number;
  groupBy: G | null;
  format: UsageFormat;
  limit: number;
}

/** Accepts unix seconds or an ISO 8601 date/time (see instant.ts); returns ms since the epoch. */
function parseInstant(value: string | null, param: string, fallback: number): Result<number, Invalid> {
  if (value === null || value === "") return ok(fallback);
  const ms = instantMs(value);
  if (ms === null)
    return refuse(invalid(param, `Invalid ${param}: use unix seconds or an ISO 8601 date, up to the year 33658.`));
  return ok(ms);
}

function parseChoice<T extends string>(
  value: string | null,
  param: string,
  choices: readonly T[],
): Result<T | null, Invalid> {
  if (value === null || value === "") return ok(null);
  const choice = choices.find((c) => c === value);
  if (choice === undefined) return refuse(invalid(param, `Invalid ${param}: one of ${choices.join(", ")}.`));
  return ok(choice);
}

const FORMATS: readonly UsageFormat[] = ["json", "csv"];

/** The parameters, or the first one found wrong (in the order from, to, the range, group_by, format, limit). */
export function parseUsageParams<G extends string>(
  params: URLSearchParams,
  now: number,
  groupings: readonly G[],
): Result<UsageParams<G>, Invalid> {
  const from = parseInstant(params.get("from"), "from", 0);
  if (!from.ok) return from;
  const to = parseInstant(params.get("to"), "to", now + 1);
  if (!to.ok) return to;
  if (to.value < from.value) return refuse(invalid("to", "Invalid range: `to` is before `from`."));
  const groupBy = parseChoice(params.get("group_by"), "group_by", groupings);
  if (!groupBy.ok) return groupBy;
  const format = parseChoice(params.get("format"), "format", FORMATS);
  if (!format.ok) return format;
  const limit = queryInt(params, "limit", { fallback: DEFAULT_LIMIT, min: 1, max: MAX_LIMIT });
  if (!limit.ok) return limit;
  return ok({
    from: from.value,
    to: to.value,
    groupBy: groupBy.value,
    format: format.value ?? "json",
    limit: limit.value,
  });
}
