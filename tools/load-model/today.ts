// Today's design (the code on this branch), driven request by request: the real authenticate (per-isolate key
// cache, ApiKeys.lookup on a miss), the real RequestBudget (KeyAccount.reserve), the real recordUsage (KeyAccount.record
// at once for a key with limits, else the 200 ms batcher), the real cell view (the directory through the colo's cache).
// The slot itself is counted by acquireSlot's rule rather than run through it (its state lives in a module every
// isolate would share here): one acquire and one release at the node's cell, a renewal every LEASE_RENEW_MS.
import type { UsageEntry } from "../../worker/src/billing/records.js";
import { RequestBudget } from "../../worker/src/billing/request-budget.js";
import type { RequestShape } from "../../worker/src/billing/request-shape.js";
import { hasAnyLimit } from "../../worker/src/billing/reservation.js";
import { admissionCell, keyAccount } from "../../worker/src/durable/names.js";
import { adminUsageRoute } from "../../worker/src/routes/usage.js";
import type { GatewayRequest } from "../../worker/src/http/request-id.js";
import type { AcquireRequest } from "../../worker/src/durable/admission-cell/admission-cell.js";
import { cellOf, LEASE_RENEW_MS, NO_CONTROLS, type Outcome } from "../../worker/src/routing/index.js";
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
import { type DrawnRequest, drawRequest, poisson, seededRandom } from "./traffic.js";
import { ADMIN_TOKEN, buildWorld, type LoadKey, type ObjectFactories, type World } from "./world.js";

const MODEL = "llama-3.1-8b";
/** A chat request with a 256-token cap and a short prompt: its worst case is what the budget reserves. */
const SHAPE: RequestShape = {
  generates: true,
  choices: 1,
  cap: 256,
  logprobs: false,
  tools: false,
  stopBytes: 0,
  hiddenOutput: null,
  mediaParts: 0,
};
const BODY_BYTES = 600;
const TERMS = { price: { prompt: 100_000, completion: 200_000 }, contextLength: 8_192 };

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

function nodeId(n: number): string {
  return `node-${n}`;
}

/** Waits `ms` on the simulated clock, renewing the slot's lease every LEASE_RENEW_MS meanwhile (holdLease). */
async function answer(ms: number, renew: () => void): Promise<void> {
  for (let left = ms; left > 0; left -= LEASE_RENEW_MS) {
    const wait = Math.min(left, LEASE_RENEW_MS);
    await new Promise<void>((resolve) => setTimeout(resolve, wait));
    if (wait === LEASE_RENEW_MS && left > wait) renew();
  }
}

function usageRow(requestId: string, keyId: string, node: string, startedAt: number, now: number): UsageEntry {
  return {
    request_id: requestId,
    created: startedAt,
    key_id: keyId,
    node_id: node,
    model: MODEL,
    prompt_tokens: 150,
    completion_tokens: 200,
    total_tokens: 350,
    cost: 55_000,
    node_amount: 55_000,
    billable: true,
    estimated: false,
    receipt_status: "ok",
    latency_ms: now - startedAt,
    status: 200,
    streamed: true,
    receipt: "receipt",
  };
}

/**
 * What authenticate reads of a request: its Authorization header. Not a whole Request, whose construction (an abort
 * signal, a body stream) was a tenth of a full run's time.
 */
function bearerRequest(token: string): Request {
  const authorization = `Bearer ${token}`;
  const headers = { get: (name: string) => (name.toLowerCase() === "authorization" ? authorization : null) };
  return { headers } as unknown as Request;
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

/** Starts the arrivals: each simulated millisecond, a Poisson number of requests. */
function startTraffic(world: World, until: number): void {
  const { config, clock } = world;
  const random = seededRandom(config.seed);
  const perMs = config.rps / 1000;
  let n = 0;
  const start = clock.now();
  for (let t = start; t < until; t++) {
    clock.setTimeout(() => {
      for (let k = poisson(perMs, random); k > 0; k--)
        backgroundContext.waitUntil(serve(world, drawRequest(config, random), n++));
    }, t - start);
  }
}

export interface DesignRun {
  world: World;
  /** The counted window, simulated ms. */
  from: number;
  to: number;
}

/** Builds the world, runs warm-up and the counted window; the caller reads world.counter, then closes the world. */
export async function runToday(config: LoadConfig): Promise<DesignRun> {
  const world = await buildWorld(config, (keys) => todaysObjects(keys));
  const { clock } = world;
  const from = clock.now() + config.warmupSeconds * 1000;
  const to = from + config.seconds * 1000;
  startTraffic(world, to);
  for (let t = from; t < to; t += config.adminUsageEveryMs)
    clock.setTimeout(() => backgroundContext.waitUntil(adminUsage(world)), t - clock.now());
  await clock.runUntil(to);
  return { world, from, to };
}
