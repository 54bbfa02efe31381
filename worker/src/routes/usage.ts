// GET /v1/usage: the calling key's usage and cost. GET /admin/usage: every key's, summed (admin token).
// ?from=&to= (unix seconds or ISO 8601, [from, to)), &group_by=, &format=json|csv, &limit= (rows, ungrouped only).
import { exactJson, type ExactJson, type UsageGrouping } from "@meshgate/schemas";
import { retentionDays, rowsKeptSince } from "../billing/retention.js";
import { csvResponse } from "../billing/usage-csv.js";
import { groupBody, groupsCsv, rowBody, rowsCsv, totalsBody, type Audience } from "../billing/usage-format.js";
import { parseUsageParams, type UsageParams } from "../billing/usage-params.js";
import { planRange, retentionProblem } from "../billing/usage-range.js";
import { mergeGroups, totalOf, type Dimension, type UsageGroup, type UsageSums } from "../billing/usage-sums.js";
import { listAllKeys } from "../durable/api-keys/key-index.js";
import { keyAccount } from "../durable/names.js";
import { authenticate, requireAdmin } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { orThrow } from "../http/refusal.js";
import type { GatewayRequest } from "../http/request-id.js";
import { mapLimit } from "../lib/fan-out.js";

const CLIENT_GROUPINGS: readonly Dimension[] = ["model", "node", "day"];
const ADMIN_GROUPINGS: readonly UsageGrouping[] = ["key", "model", "node", "day"];
/** Accounts asked at once by the admin report. */
const FAN_OUT = 16;

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

/** Every key's account (revoked keys' too: their usage happened), asked FAN_OUT at a time; sums merge exactly. */
export async function adminUsageRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const now = Date.now();
  const p = orThrow(parseUsageParams(new URL(request.url).searchParams, now, ADMIN_GROUPINGS));
  checkRetention(p, env, now);
  const groupBy = p.groupBy ?? "key";
  const keys = await listAllKeys(env, now);
  const answers = await mapLimit(keys, FAN_OUT, async (k) => ({
    id: k.id,
    answer: await keyAccount(env, k.id).usage({
      from: p.from,
      to: p.to,
      group_by: groupBy === "key" ? null : groupBy,
      limit: 0,
    }),
  }));
  // By key, keys without usage in the range are left out, as a grouping of rows would have no group for them.
  const groups =
    groupBy === "key"
      ? mergeGroups([
          answers.filter((a) => a.answer.totals.requests > 0n).map((a) => ({ group: a.id, ...a.answer.totals })),
        ])
      : mergeGroups(answers.map((a) => a.answer.groups));
  const names = new Map(keys.map((k) => [k.id, k.name]));
  return groupedResponse(p, {
    groupBy,
    totals: totalOf(answers.map((a) => a.answer.totals)),
    groups,
    audience: "admin",
    names,
  });
}
