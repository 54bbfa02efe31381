// The design on this branch (issue 17's account side), driven request by request through the real isolate code: the
// real authenticate (mg2- tokens checked in the isolate, the per-isolate key cache kept fresh by its colo's replica of
// the key-changes feed, a key-index shard asked on a miss), the real RequestBudget over the isolate's real purse
// (slices leased from the key's account, exact reservations for a lone request), the real cell view. The slot is
// counted by acquireSlot's rule (one acquire at the node's cell), and its release carries the usage row into the
// cell's write-ahead, as inference-record.ts hands it over; the cell's flush follows the UsageWal's rule
// (edge-objects.ts).
import { RequestBudget } from "../../worker/src/billing/request-budget.js";
import { hasAnyLimit } from "../../worker/src/billing/reservation.js";
import { admissionCell } from "../../worker/src/durable/names.js";
import { adminUsageRoute } from "../../worker/src/routes/usage.js";
import type { GatewayRequest } from "../../worker/src/http/request-id.js";
import type { AcquireRequest } from "../../worker/src/durable/admission-cell/admission-cell.js";
import { cellOf, NO_CONTROLS, type Outcome } from "../../worker/src/routing/index.js";
import { type Design, type DesignRun, runDesign } from "./design.js";
import {
  EarningsShardModel,
  KeyAccountModel,
  KeyChangesModel,
  KeyIndexModel,
  UsageRollupModel,
  WriteAheadCellModel,
} from "./edge-objects.js";
import type { LoadConfig } from "./config.js";
import { backgroundContext, inColo, type Isolate } from "./isolate.js";
import { CellDirectoryModel, NodeRegistryModel } from "./mesh-objects.js";
import { answer, BODY_BYTES, bearerRequest, MODEL, nodeId, SHAPE, TERMS, usageRow } from "./request-parts.js";
import type { DrawnRequest } from "./traffic.js";
import { ADMIN_TOKEN, EPOCH_MS, type LoadKey, type ObjectFactories, type World } from "./world.js";

function edgeObjects(keys: readonly LoadKey[]): ObjectFactories {
  const limitsById = new Map(keys.map((k) => [k.identity.id, k.identity.limits]));
  const accountOf = (name: string) => {
    const limits = limitsById.get(name.replace(/^ledger:/, ""));
    if (!limits) throw new Error(`load model: no key behind ${name}`);
    return new KeyAccountModel(limits, EPOCH_MS);
  };
  return {
    KEYS: { kind: "ApiKeys (key index)", create: (name) => new KeyIndexModel(name, keys) },
    KEY_CHANGES: { kind: "KeyChanges", create: () => new KeyChangesModel() },
    ACCOUNTS: { kind: "KeyAccount", create: (name) => accountOf(name) },
    EARNINGS: { kind: "EarningsShard", create: () => new EarningsShardModel() },
    ROLLUP: { kind: "UsageRollup", create: () => new UsageRollupModel() },
    CELLS: { kind: "AdmissionCell", create: (name, env) => new WriteAheadCellModel(env, name) },
    DIRECTORY: { kind: "CellDirectory", create: () => new CellDirectoryModel() },
    REGISTRY: { kind: "NodeRegistry", create: () => new NodeRegistryModel() },
  };
}

/** The request path's admit step (inference.ts): a limited key's budget goes through this isolate's purse. */
function budgetFor(isolate: Isolate, env: Env, keyId: string, limits: LoadKey["identity"]["limits"], id: string) {
  const purse = hasAnyLimit(limits) ? isolate.purses.purseFor(env, keyId, limits) : null;
  return new RequestBudget({
    requestId: id,
    limits,
    account: () => {
      if (!purse) throw new Error("a key without limits has no account to reserve at");
      return purse;
    },
    defer: (work) => backgroundContext.waitUntil(work),
    shape: SHAPE,
    bodyBytes: BODY_BYTES,
    likelyCap: 256,
    feeBps: 0,
  });
}

/** One request, start to end, as the request path makes its calls; it runs in its isolate's colo throughout. */
function serve(world: World, drawn: DrawnRequest, n: number): Promise<void> {
  const isolate = world.isolates[drawn.isolate] as Isolate;
  return inColo(world.colos[isolate.colo] as World["colos"][number], () => serveInColo(world, isolate, drawn, n));
}

async function serveInColo(world: World, isolate: Isolate, drawn: DrawnRequest, n: number): Promise<void> {
  const { env, config } = world;
  const key = world.keys[drawn.key] as LoadKey;
  const startedAt = Date.now();
  const request = bearerRequest(key.token, `colo-${isolate.colo}`);
  const identity = await isolate.auth.authenticate(request, env, startedAt, backgroundContext);
  const requestId = `req-${n}`;
  const budget = budgetFor(isolate, env, identity.id, identity.limits, requestId);
  isolate.cellView.cellView(env, backgroundContext, Date.now());
  const node = nodeId(drawn.node);
  const cellNumber = cellOf(node, config.cells);
  const cell = admissionCell(env, cellNumber);
  // askCell's request, for the node's own cell: the first cell asked grants (no cell is ever full here).
  const acquire: AcquireRequest = {
    cell: cellNumber,
    cells: config.cells,
    model: MODEL,
    controls: NO_CONTROLS(MODEL),
    exclude: [],
    attempt: 0,
    bound: budget.bound(),
  };
  await cell.acquire(acquire, Date.now());
  const covered = await budget.cover(TERMS, Date.now());
  if (!covered.ok) throw new Error(`load model: a request was refused (${covered.refusal.kind})`);
  const leaseId = `lease-${n}`;
  await answer(drawn.answerMs, () => backgroundContext.waitUntil(cell.renew([leaseId], Date.now())));
  const finishedAt = Date.now();
  const row = { ...usageRow(requestId, identity.id, node, startedAt, finishedAt), slice_id: budget.sliceId };
  const outcome: Outcome = {
    nodeId: node,
    model: MODEL,
    kind: "success",
    at: finishedAt,
    ttftMs: 300,
    tokens: 200,
    streamMs: finishedAt - startedAt - 300,
    inFlight: null,
  };
  // recordAnswer's order: the slot back with the outcome and the row (written ahead), then the budget let go of.
  const prompt = hasAnyLimit(identity.limits) && budget.sliceId === null;
  await cell.release([{ leaseId, outcome, usage: { entry: row, prompt } }], finishedAt);
  budget.settle(row.cost, row.total_tokens, Date.now());
}

/** GET /admin/usage for the last hour, grouped by key (the default), through the real route. */
async function adminUsage(world: World): Promise<void> {
  const hour = 3_600_000;
  const from = (Math.floor(Date.now() / hour) - 1) * hour;
  const request = new Request(`https://gateway.example/admin/usage?from=${from / 1000}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const response = await adminUsageRoute(Object.assign(request, { id: "admin" }) as GatewayRequest, world.env);
  if (!response.ok) throw new Error(`/admin/usage answered ${response.status}: ${await response.text()}`);
}

/** The design on this branch. */
export const EDGE: Design = {
  title: "This design (issue 17)",
  file: "edge.md",
  objects: edgeObjects,
  serve,
  adminUsage,
};

export function runEdge(config: LoadConfig): Promise<DesignRun> {
  return runDesign(config, EDGE);
}
