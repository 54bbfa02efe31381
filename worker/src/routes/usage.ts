// GET /v1/usage: the calling key's usage and cost. GET /admin/usage: every key's, summed (admin token).
// ?from=&to= (unix seconds or ISO 8601, [from, to)), &group_by=, &format=json|csv, &limit= (rows, ungrouped only).
import { exactJson, type ExactJson, type UsageGrouping } from "@meshgate/schemas";
import { retentionDays, rowsKeptSince } from "../billing/retention.js";
import { csvResponse } from "../billing/usage-csv.js";
import { groupBody, groupsCsv, rowBody, rowsCsv, totalsBody, type Audience } from "../billing/usage-format.js";
import { parseUsageParams, type UsageParams } from "../billing/usage-params.js";
import { planRange, retentionProblem } from "../billing/usage-range.js";
import { rollupRangeProblem } from "../billing/rollup-range.js";
import {
  mergeGroups,
  SUM_FIELDS,
  totalOf,
  type Dimension,
  type UsageGroup,
  type UsageSums,
} from "../billing/usage-sums.js";
import { listAllKeys } from "../durable/api-keys/key-index.js";
import { keyAccount, usageRollup } from "../durable/names.js";
import type { RollupGroup } from "../durable/usage-rollup/rollup-sql.js";
import { authenticate, requireAdmin } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { orThrow } from "../http/refusal.js";
import type { GatewayRequest } from "../http/request-id.js";

const CLIENT_GROUPINGS: readonly Dimension[] = ["model", "node", "day"];
const ADMIN_GROUPINGS: readonly UsageGrouping[] = ["key", "model", "node", "day"];

/** Sums can pass 2^53: written as exact integer literals, which Response.json (JSON.stringify) cannot do. */
function exactJsonResponse(body: ExactJson): Response {
  return new Response(exactJson(body), { headers: { "content-type": "application/json" } });
}

/** A range whose partial days lie before the retention can't be answered exactly: refuse it, saying why. */
function checkRetention(p: UsageParams<string>, env: Env, now: number): void {
  const days = retentionDays(env.USAGE_RETENTION_DAYS);
  const problem = retentionProblem(planRange(p.from, p.to), rowsKeptSince(now, days), days);
  if (problem) throw new HttpError(400, problem.message, { param: problem.param, code: "outside_retention" });
}

interface Grouped {
  groupBy: UsageGrouping;
  totals: UsageSums;
  groups: UsageGroup[];
  audience: Audience;
  names?: ReadonlyMap<string, string>;
}

function groupedResponse(p: UsageParams<string>, g: Grouped): Response {
  const names = g.names ?? new Map<string, string>();
  if (p.format === "csv") return csvResponse(groupsCsv(g.groupBy, g.groups, g.audience, names), p.from, p.to);
  return exactJsonResponse({
    object: "usage",
    group_by: g.groupBy,
    totals: totalsBody(g.totals, g.audience),
    data: g.groups.map((group) => groupBody(g.groupBy, group, g.audience, names)),
  });
}

export async function usageRoute(request: GatewayRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const now = Date.now();
  const key = await authenticate(request, env, now, ctx);
  const p = orThrow(parseUsageParams(new URL(request.url).searchParams, now, CLIENT_GROUPINGS));
  checkRetention(p, env, now);
  const answer = await keyAccount(env, key.id).usage({ from: p.from, to: p.to, group_by: p.groupBy, limit: p.limit });
  if (p.groupBy !== null)
    return groupedResponse(p, { groupBy: p.groupBy, totals: answer.totals, groups: answer.groups, audience: "client" });
  if (p.format === "csv") return csvResponse(rowsCsv(answer.rows), p.from, p.to);
  return exactJsonResponse({
    object: "usage",
    totals: totalsBody(answer.totals, "client"),
    data: answer.rows.map(rowBody),
    has_more: answer.has_more,
  });
}

/**
 * Every key's usage (revoked keys' too: their usage happened) from the global roll-up, in one call however many keys
 * there are, plus one for the keys' names when grouped by key. Ranges are whole hours (rollup-range.ts).
 */
export async function adminUsageRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const now = Date.now();
  const p = orThrow(parseUsageParams(new URL(request.url).searchParams, now, ADMIN_GROUPINGS));
  const days = retentionDays(env.USAGE_RETENTION_DAYS);
  const problem = rollupRangeProblem(p, now, rowsKeptSince(now, days), days);
  if (problem) throw new HttpError(400, problem.message, { param: problem.param, code: "outside_retention" });
  const groupBy = p.groupBy ?? "key";
  const [summed, keys] = await Promise.all([
    usageRollup(env).usage(groupBy, p.from, p.to),
    groupBy === "key" ? listAllKeys(env, now) : [],
  ]);
  const groups = mergeGroups([summed.map(fromRollup)]);
  const names = new Map(keys.map((k) => [k.id, k.name]));
  return groupedResponse(p, { groupBy, totals: totalOf(groups), groups, audience: "admin", names });
}

/** A roll-up group's decimal figures (SUM_FIELDS order) as exact sums. */
function fromRollup(g: RollupGroup): UsageGroup {
  const sums = Object.fromEntries(SUM_FIELDS.map((f, i) => [f, BigInt(g.sums[i] ?? "0")])) as Record<
    (typeof SUM_FIELDS)[number],
    bigint
  >;
  return { group: g.group, ...sums };
}
