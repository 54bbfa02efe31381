// Settlement: an admin closes a period (or aborts a close that failed part way); anyone (nodes first) reads the
// signed statements and checks their receipts' proofs against them.
import {
  NodeIdSchema,
  settlementStatementBytes,
  toBase64Url,
  type SettlementNode,
  type SettlementAbort,
  type SettlementProof,
  type SettlementStatement,
} from "@meshgate/schemas";
import { PeriodBodySchema, settlementDelayMs, settlementPeriod } from "../billing/period.js";
import { assembleStatement, pageLeaves, topProof } from "../billing/settlement-tree.js";
import type { Earning } from "../billing/records.js";
import { groupBy } from "../lib/group-by.js";
import { earningsShard, earningsShardOf, earningsShards, settlements } from "../durable/names.js";
import type { Overlap, ShardLayout } from "../durable/settlements/settlements.js";
import { requireAdmin } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { readJson } from "../http/json-body.js";
import { orThrow } from "../http/refusal.js";
import type { GatewayRequest } from "../http/request-id.js";
import { queryInt } from "../lib/query-int.js";
import { gatewayIdentity } from "../mesh/gateway-identity.js";

/** A closed statement and its proofs never change. */
const IMMUTABLE = { "cache-control": "public, max-age=86400, immutable" };
const MAX_PAGES = 1_000_000;

const abortPath = (id: string) => `POST /admin/settlements/${id}/abort`;

/** A closing overlap is a close that failed part way: its receipts stay held for it until it is finished or aborted. */
function overlapError(other: Overlap): HttpError {
  const [from, to] = [new Date(other.from).toISOString(), new Date(other.to).toISOString()];
  const detail = {
    closing: `, which is still closing: a close of it did not finish. Finish it by POSTing exactly {"from":"${from}","to":"${to}"}, or abort it (${abortPath(other.id)}) to reopen its period; then close the rest.`,
    aborting: `, whose abort did not finish. Retry it (${abortPath(other.id)}); then close the period.`,
    closed: ", which is closed.",
  }[other.status];
  return new HttpError(409, `The period overlaps settlement '${other.id}' [${from}, ${to})${detail}`, {
    param: "from",
    code: "settlement_overlap",
  });
}

function abortedError(id: string): HttpError {
  return new HttpError(
    409,
    `Settlement '${id}' was aborted while it was closing; nothing was signed. Close the period again.`,
    { code: "settlement_aborted" },
  );
}

/** Receipts moved from one shard to their nodes' shards per call. */
const STRAYS_BATCH = 1_000;

/**
 * Moves every unsettled receipt that sits outside its node's shard under `layout.shards` (left by an earlier shard
 * count) to that shard: added there first, then dropped here, so a failure part way leaves it in both for the next
 * try (the add is idempotent on request id, and no shard closes while it holds another's receipts).
 */
async function gatherStrays(env: Env, layout: ShardLayout): Promise<void> {
  const move = async (from: number): Promise<void> => {
    for (;;) {
      const strays: Earning[] = await earningsShard(env, from).strays(layout.shards, STRAYS_BATCH);
      if (strays.length === 0) return;
      const byShard = groupBy(strays, (e) => earningsShardOf(e.node_id, layout.shards));
      await Promise.all([...byShard].map(([to, batch]) => earningsShard(env, to).add(batch, Date.now())));
      await earningsShard(env, from).drop(strays.map((e) => e.request_id));
    }
  };
  await Promise.all(Array.from({ length: layout.read }, (_, s) => move(s)));
}

/** Every shard's part of the close; null for a shard that refused because the close was aborted. */
async function closeShards(
  env: Env,
  id: string,
  period: { from: number; to: number },
  layout: ShardLayout,
): Promise<(SettlementNode[] | null)[]> {
  const { from, to } = period;
  try {
    await gatherStrays(env, layout);
    return await Promise.all(
      Array.from({ length: layout.read }, (_, s) => earningsShard(env, s).close(id, from, to, layout)),
    );
  } catch (err) {
    console.error("settlement close failed part way", id, err instanceof Error ? err.message : String(err));
    const [start, end] = [new Date(from).toISOString(), new Date(to).toISOString()];
    const message = `Closing settlement '${id}' failed part way; nothing was signed. Retry by POSTing exactly {"from":"${start}","to":"${end}"}, or abort it (${abortPath(id)}) to reopen the period.`;
    throw new HttpError(503, message, { code: "settlement_close_failed" });
  }
}

/** POST /admin/settlements {from, to}: closes the period and returns its signed statement. */
export async function closeSettlementRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const { value } = await readJson(request, PeriodBodySchema, 4 * 1024);
  const now = Date.now();
  const delay = settlementDelayMs(env.SETTLEMENT_DELAY_MS);
  const { from, to } = orThrow(settlementPeriod(value, now, delay));
  // Before reserving the period, so a gateway that cannot sign never leaves one closing.
  const { signer } = await gatewayIdentity(env);
  const begun = await settlements(env).begin(from, to, now, earningsShards(env));
  if (!begun.ok) throw overlapError(begun.conflict);
  const shards = await closeShards(env, begun.id, { from, to }, begun.layout);
  const nodes = shards.flatMap((shard) => shard ?? []);
  if (shards.includes(null)) throw abortedError(begun.id);
  const unsigned = assembleStatement({ id: begun.id, from, to, created: begun.created, keyId: signer.keyId, nodes });
  const signature = toBase64Url(await signer.sign(settlementStatementBytes(unsigned)));
  // Null: aborted after the shards closed; the abort releases what they tagged, and nothing is signed.
  const stored = await settlements(env).finish({ ...unsigned, signature });
  if (!stored) throw abortedError(begun.id);
  return Response.json(stored, { status: 201 });
}

/**
 * POST /admin/settlements/{id}/abort: undoes a close that failed part way. Its statement can no longer be signed,
 * every shard releases the receipts it tagged (they are unsettled again, for the next close), and its period
 * reopens. Idempotent: an abort that failed part way is finished by retrying it.
 */
export async function abortSettlementRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const id = request.params["id"] ?? "";
  const begun = id.length <= 64 ? await settlements(env).abort(id) : null;
  if (!begun || (!begun.ok && begun.status === "unknown")) {
    throw new HttpError(404, `No settlement with id '${id.slice(0, 64)}'.`, {
      param: "id",
      code: "settlement_not_found",
    });
  }
  if (!begun.ok)
    throw new HttpError(409, `Settlement '${id}' is closed: a closed statement never changes.`, {
      param: "id",
      code: "settlement_closed",
    });
  let released: number[];
  try {
    released = await Promise.all(Array.from({ length: begun.read }, (_, s) => earningsShard(env, s).abort(id)));
  } catch (err) {
    console.error("settlement abort failed part way", id, err instanceof Error ? err.message : String(err));
    throw new HttpError(
      503,
      `Aborting settlement '${id}' failed part way; its period stays held. Retry the abort (${abortPath(id)}).`,
      { code: "settlement_abort_failed" },
    );
  }
  await settlements(env).aborted(id);
  const body: SettlementAbort = {
    object: "settlement.abort",
    id,
    status: "aborted",
    from: begun.from,
    to: begun.to,
    released_receipts: released.reduce((n, r) => n + r, 0),
  };
  return Response.json(body);
}

/** GET /v1/settlements?limit=&after=: closed statements, newest first. */
export async function listSettlementsRoute(request: GatewayRequest, env: Env): Promise<Response> {
  const params = new URL(request.url).searchParams;
  const limit = orThrow(queryInt(params, "limit", { fallback: 20, min: 1, max: 100 }));
  const after = params.get("after") || null;
  const page = after !== null && after.length > 64 ? null : await settlements(env).list(limit, after);
  if (!page)
    throw new HttpError(400, "Invalid after: not the id of a settlement.", { param: "after", code: "invalid_value" });
  return Response.json({ object: "list", data: page.data, has_more: page.has_more });
}

async function closedStatement(request: GatewayRequest, env: Env): Promise<SettlementStatement> {
  const id = request.params["id"] ?? "";
  const statement = id.length <= 64 ? await settlements(env).get(id) : null;
  if (!statement)
    throw new HttpError(404, `No settlement with id '${id.slice(0, 64)}'.`, {
      param: "id",
      code: "settlement_not_found",
    });
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
  if (!nodeId.success)
    throw new HttpError(400, "Invalid node: a node id (43 base64url characters) is required.", {
      param: "node",
      code: "invalid_value",
    });
  const page = orThrow(queryInt(params, "page", { fallback: 0, min: 0, max: MAX_PAGES }));
  const top = topProof(statement, nodeId.data);
  // The node's receipts were gathered in its shard under the count its close used.
  const shards = top ? await settlements(env).shardsOf(statement.id) : null;
  const stored =
    top && shards !== null
      ? await earningsShard(env, earningsShardOf(nodeId.data, shards)).leaves(statement.id, nodeId.data, page)
      : null;
  if (!top || !stored) {
    throw new HttpError(404, `Node '${nodeId.data}' earned nothing in settlement '${statement.id}'.`, {
      param: "node",
      code: "node_not_in_settlement",
    });
  }
  const body: SettlementProof = {
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
