// Today's design (the code on this branch), driven request by request: the real authenticate (per-isolate key
// cache, ApiKeys.lookup on a miss), the real RequestBudget (KeyAccount.reserve), the real recordUsage
// (KeyAccount.record at once for a key with limits, else the 200 ms batcher), the real cell view (the directory
// through the colo's cache).
// The slot itself is counted by acquireSlot's rule rather than run through it (its state lives in a module every
// isolate would share here): one acquire and one release at the node's cell, a renewal every LEASE_RENEW_MS.
import { RequestBudget } from "../../worker/src/billing/request-budget.js";
import { hasAnyLimit } from "../../worker/src/billing/reservation.js";
import { admissionCell, keyAccount } from "../../worker/src/durable/names.js";
import { adminUsageRoute } from "../../worker/src/routes/usage.js";
import type { GatewayRequest } from "../../worker/src/http/request-id.js";
import type { AcquireRequest } from "../../worker/src/durable/admission-cell/admission-cell.js";
import { cellOf, NO_CONTROLS, type Outcome } from "../../worker/src/routing/index.js";
import type { LoadConfig } from "./config.js";
import { backgroundContext, inColo } from "./isolate.js";
import {
  AdmissionCellModel,
  ApiKeysModel,
  CellDirectoryModel,
  EarningsShardModel,
  KeyAccountModel,
  NodeRegistryModel,
} from "./today-objects.js";
import { type Design, type DesignRun, runDesign } from "./design.js";
import { answer, BODY_BYTES, bearerRequest, MODEL, nodeId, SHAPE, TERMS, usageRow } from "./request-parts.js";
import type { DrawnRequest } from "./traffic.js";
import { ADMIN_TOKEN, type LoadKey, type ObjectFactories, type World } from "./world.js";

function todaysObjects(keys: readonly LoadKey[]): ObjectFactories {
  return {
    KEYS: { kind: "ApiKeys", create: () => new ApiKeysModel(keys) },
    ACCOUNTS: { kind: "KeyAccount", create: (_name, env) => new KeyAccountModel(env) },
    EARNINGS: { kind: "EarningsShard", create: () => new EarningsShardModel() },
    CELLS: { kind: "AdmissionCell", create: (_name, env) => new AdmissionCellModel(env) },
    DIRECTORY: { kind: "CellDirectory", create: () => new CellDirectoryModel() },
    REGISTRY: { kind: "NodeRegistry", create: () => new NodeRegistryModel() },
  };
}

/** One request, start to end, as the request path makes its calls. */
async function serve(world: World, drawn: DrawnRequest, n: number): Promise<void> {
  const { env, config } = world;
  const isolate = world.isolates[drawn.isolate] as World["isolates"][number];
  const key = world.keys[drawn.key] as World["keys"][number];
  const startedAt = Date.now();
  const identity = await isolate.auth.authenticate(bearerRequest(key.token), env, startedAt);
  const requestId = `req-${n}`;
  const budget = new RequestBudget({
    requestId,
    limits: identity.limits,
    account: () => keyAccount(env, identity.id),
    shape: SHAPE,
    bodyBytes: BODY_BYTES,
    likelyCap: 256,
    feeBps: 0,
  });
  inColo(world.colos[isolate.colo] as World["colos"][number], () =>
    isolate.cellView.cellView(env, backgroundContext, Date.now()),
  );
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
  await budget.cover(TERMS, Date.now());
  const leaseId = `lease-${n}`;
  await answer(drawn.answerMs, () => backgroundContext.waitUntil(cell.renew([leaseId], Date.now())));
  const finishedAt = Date.now();
  // recordAnswer's order: the usage row, then the slot back with the node's outcome.
  isolate.reporting.recordUsage(
    usageRow(requestId, identity.id, node, startedAt, finishedAt),
    env,
    backgroundContext,
    hasAnyLimit(identity.limits),
  );
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
  backgroundContext.waitUntil(cell.release([{ leaseId, outcome }], finishedAt));
}

/** GET /admin/usage for today so far, through the real route (its fan-out to every key's account). */
async function adminUsage(world: World): Promise<void> {
  const from = Math.floor(Date.now() / 1000) - 3_600;
  const request = new Request(`https://gateway.example/admin/usage?from=${from}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const response = await adminUsageRoute(Object.assign(request, { id: "admin" }) as GatewayRequest, world.env);
  if (!response.ok) throw new Error(`/admin/usage answered ${response.status}: ${await response.text()}`);
}

/** Today's design, as the code on this branch runs it. */
export const TODAY: Design = {
  title: "Today's design",
  file: "today.md",
  objects: todaysObjects,
  serve,
  adminUsage,
};

export function runToday(config: LoadConfig): Promise<DesignRun> {
  return runDesign(config, TODAY);
}
