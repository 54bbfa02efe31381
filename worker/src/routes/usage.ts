// GET /v1/usage?from=&to=: the calling key's metered usage.
import type { UsageReport } from "@meshgate/schemas";
import { usageLedger } from "../durable/names.js";
import { authenticate } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import type { GatewayRequest } from "../http/request-id.js";

const DEFAULT_LIMIT = 1_000;
const MAX_LIMIT = 10_000;

/** Accepts unix seconds or an ISO 8601 date/time; returns ms since the epoch. */
export function parseInstant(value: string | null, param: string, fallback: number): number {
  if (value === null || value === "") return fallback;
  const ms = /^\d{1,12}$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw new HttpError(400, `Invalid ${param}: use unix seconds or an ISO 8601 date.`, { param, code: "invalid_value" });
  return ms;
}

function parseLimit(value: string | null): number {
  if (value === null || value === "") return DEFAULT_LIMIT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new HttpError(400, `Invalid limit: an integer from 1 to ${MAX_LIMIT}.`, { param: "limit", code: "invalid_value" });
  return n;
}

export async function usageRoute(request: GatewayRequest, env: Env): Promise<Response> {
  const now = Date.now();
  const key = await authenticate(request, env, now);
  const params = new URL(request.url).searchParams;
  const from = parseInstant(params.get("from"), "from", 0);
  const to = parseInstant(params.get("to"), "to", now + 1);
  if (to < from) throw new HttpError(400, "Invalid range: `to` is before `from`.", { param: "to", code: "invalid_value" });
  const report = await usageLedger(env, key.id).report(from, to, parseLimit(params.get("limit")));
  const body: UsageReport & { has_more: boolean } = {
    object: "usage",
    totals: report.totals,
    data: report.rows.map((r) => ({ ...r, created: new Date(r.created).toISOString() })),
    has_more: report.has_more,
  };
  return Response.json(body);
}
