// The query string of the usage endpoints: ?from=&to=&group_by=&format=&limit=. Every bad value is a 400 naming it.
import { HttpError } from "../http/http-error.js";
import { instantMs } from "../lib/instant.js";

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

const invalid = (param: string, message: string) => new HttpError(400, message, { param, code: "invalid_value" });

/** Accepts unix seconds or an ISO 8601 date/time (see instant.ts); returns ms since the epoch. */
function parseInstant(value: string | null, param: string, fallback: number): number {
  if (value === null || value === "") return fallback;
  const ms = instantMs(value);
  if (ms === null)
    throw invalid(param, `Invalid ${param}: use unix seconds or an ISO 8601 date, up to the year 33658.`);
  return ms;
}

function parseLimit(value: string | null): number {
  if (value === null || value === "") return DEFAULT_LIMIT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT)
    throw invalid("limit", `Invalid limit: an integer from 1 to ${MAX_LIMIT}.`);
  return n;
}

function parseChoice<T extends string>(value: string | null, param: string, choices: readonly T[]): T | null {
  if (value === null || value === "") return null;
  const choice = choices.find((c) => c === value);
  if (choice === undefined) throw invalid(param, `Invalid ${param}: one of ${choices.join(", ")}.`);
  return choice;
}

const FORMATS: readonly UsageFormat[] = ["json", "csv"];

export function parseUsageParams<G extends string>(
  params: URLSearchParams,
  now: number,
  groupings: readonly G[],
): UsageParams<G> {
  const from = parseInstant(params.get("from"), "from", 0);
  const to = parseInstant(params.get("to"), "to", now + 1);
  if (to < from) throw invalid("to", "Invalid range: `to` is before `from`.");
  return {
    from,
    to,
    groupBy: parseChoice(params.get("group_by"), "group_by", groupings),
    format: parseChoice(params.get("format"), "format", FORMATS) ?? "json",
    limit: parseLimit(params.get("limit")),
  };
}
