// Settlement: an admin closes a period; anyone (nodes first) reads the signed statements and checks their receipts'
// proofs against them.
import { NodeIdSchema, settlementStatementBytes, toBase64Url, type SettlementProof, type SettlementStatement } from "@meshgate/schemas";
import { PeriodBodySchema, settlementDelayMs, settlementPeriod } from "../billing/period.js";
import { assembleStatement, pageLeaves, topProof } from "../billing/settlement-tree.js";
import { EARNINGS_SHARDS, earningsShard, earningsShardOf, settlements } from "../durable/names.js";
import type { Overlap } from "../durable/settlements.js";
import { requireAdmin } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { readJson } from "../http/json-body.js";
import type { GatewayRequest } from "../http/request-id.js";
import { gatewayIdentity } from "../mesh/gateway-identity.js";

/** A closed statement and its proofs never change. */
const IMMUTABLE = { "cache-control": "public, max-age=86400, immutable" };
const MAX_PAGES = 1_000_000;

function intParam(value: string | null, param: string, fallback: number, min: number, max: number): number {
  if (value === null || value === "") return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new HttpError(400, `Invalid ${param}: an integer from ${min} to ${max}.`, { param, code: "invalid_value" });
  return n;
}

/** A closing overlap is a close that failed part way: its receipts stay held for it until it is finished. */
function overlapError(other: Overlap): HttpError {
  const [from, to] = [new Date(other.from).toISOString(), new Date(other.to).toISOString()];
  const finish =
    other.status === "closing"
      ? `, which is still closing: a close of it did not finish. Finish it by POSTing exactly {"from":"${from}","to":"${to}"}, then close the rest.`
      : ", which is closed.";
  return new HttpError(409, `The period overlaps settlement '${other.id}' [${from}, ${to})${finish}`, { param: "from", code: "settlement_overlap" });
}

/** POST /admin/settlements {from, to}: closes the period and returns its signed statement. */
export async function closeSettlementRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const { value } = await readJson(request, PeriodBodySchema, 4 * 1024);
  const now = Date.now();
  const delay = settlementDelayMs(env.SETTLEMENT_DELAY_MS);
  const { from, to } = settlementPeriod(value, now, delay);
  // Before reserving the period, so a gateway that cannot sign never leaves one closing.
  const { signer } = await gatewayIdentity(env);
  const begun = await settlements(env).begin(from, to, now);
  if (!begun.ok) throw overlapError(begun.conflict);
  const shards = await Promise.all(Array.from({ length: EARNINGS_SHARDS }, (_, s) => earningsShard(env, s).close(begun.id, from, to)));
  const unsigned = assembleStatement({ id: begun.id, from, to, created: begun.created, keyId: signer.keyId, nodes: shards.flat() });
  const signature = toBase64Url(await signer.sign(settlementStatementBytes(unsigned)));
  return Response.json(await settlements(env).finish({ ...unsigned, signature }), { status: 201 });
}

/** GET /v1/settlements?limit=&after=: closed statements, newest first. */
export async function listSettlementsRoute(request: GatewayRequest, env: Env): Promise<Response> {
  const params = new URL(request.url).searchParams;
  const limit = intParam(params.get("limit"), "limit", 20, 1, 100);
  const after = params.get("after") || null;
  const page = after !== null && after.length > 64 ? null : await settlements(env).list(limit, after);
  if (!page) throw new HttpError(400, "Invalid after: not the id of a settlement.", { param: "after", code: "invalid_value" });
  return Response.json({ object: "list", data: page.data, has_more: page.has_more });
}

async function closedStatement(request: GatewayRequest, env: Env): Promise<SettlementStatement> {
  const id = request.params["id"] ?? "";
  const statement = id.length <= 64 ? await settlements(env).get(id) : null;
  if (!statement) throw new HttpError(404, `No settlement with id '${id.slice(0, 64)}'.`, { param: "id", code: "settlement_not_found" });
  return statement;
}

/** GET /v1/settlements/{id}: a closed statement (one still closing is not found yet). */
export async function getSettlementRoute(request: GatewayRequest, env: Env): Promise<Response> {
  return Response.json(await closedStatement(request, env), { headers: IMMUTABLE });
}

/**
 * GET /v1/settlements/{id}/proof?node=&page=: a node's receipts in the statement, each with its proof to merkle_root.
 * Paged by BLOCK_LEAVES receipts (page 0 first), so a node with millions of receipts is served in bounded memory.
 */
export async function settlementProofRoute(request: GatewayRequest, env: Env): Promise<Response> {
  const statement = await closedStatement(request, env);
  const params = new URL(request.url).searchParams;
  const nodeId = NodeIdSchema.safeParse(params.get("node"));
  if (!nodeId.success) throw new HttpError(400, "Invalid node: a node id (43 base64url characters) is required.", { param: "node", code: "invalid_value" });
  const page = intParam(params.get("page"), "page", 0, 0, MAX_PAGES);
  const top = topProof(statement, nodeId.data);
  const stored = top ? await earningsShard(env, earningsShardOf(nodeId.data)).leaves(statement.id, nodeId.data, page) : null;
  if (!top || !stored) {
    throw new HttpError(404, `Node '${nodeId.data}' earned nothing in settlement '${statement.id}'.`, { param: "node", code: "node_not_in_settlement" });
  }
  const body: SettlementProof & { page: number; has_more: boolean } = {
    object: "settlement.proof",
    settlement_id: statement.id,
    merkle_root: statement.merkle_root,
    node: top.node,
    leaves: pageLeaves(top.proof, stored.rows, page, stored.blocks),
    page,
    has_more: page + 1 < stored.blocks.length,
  };
  return Response.json(body, { headers: IMMUTABLE });
}
