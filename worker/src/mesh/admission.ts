// Where a request's node slot comes from: an admission cell (durable/admission-cell), the one object that grants every
// slot at its nodes, so no node is sent more than it accepts however many isolates route. The isolate asks a cell for
// a node; a cell with nothing to offer (full, or none of its nodes fit) is a fast "try another cell", never a round
// trip to a node. Each granted slot is a lease this module's HeldLease owns until the answer ends.
import type { AffordBound } from "../billing/request-budget.js";
import type { AcquireReply } from "../durable/admission-cell/admission-cell.js";
import { LEASE_TTL_MS } from "../durable/admission-cell/admission-cell.js";
import { admissionCell, admissionCells } from "../durable/names.js";
import {
  chooseCell,
  controlledCells,
  type Lease,
  MAX_CELL_TRIES,
  type Outcome,
  type RouteNode,
  type RoutingControls,
} from "../routing/index.js";
import { cellView, heardFromCell } from "./cell-view.js";
import { REFUSAL_RANK } from "./failover.js";

/** A holder renews its streaming answer's lease this often: three chances before the lease would lapse. */
export const LEASE_RENEW_MS = LEASE_TTL_MS / 3;

export interface SlotQuery {
  model: string;
  controls: RoutingControls;
  exclude: ReadonlySet<string>;
  attempt: number;
  bound: AffordBound | null;
}

/** A node's slot held for one attempt: given back once, with what the attempt taught (null: nothing). */
export interface HeldSlot {
  readonly nodeId: string;
  release(outcome: Outcome | null): void;
}

export type SlotResult =
  | { kind: "node"; node: RouteNode; publicKey: string; slot: HeldSlot }
  | { kind: "unknown_model" | "no_eligible" | "saturated" };

/**
 * Asks cells for a node with a free slot, each chosen by this isolate's view of them (cell-choice.ts); the first that
 * grants one wins. A full cell costs a round trip, so at most MAX_CELL_TRIES are asked; cells whose nodes do not serve
 * the model (or not for this client) are passed by until every cell has been asked.
 */
export async function acquireSlot(env: Env, ctx: ExecutionContext, q: SlotQuery): Promise<SlotResult> {
  const random = Math.random;
  const cells = admissionCells(env);
  const view = cellView(env, ctx, Date.now());
  const { first, allowed } = controlledCells(q.controls, q.exclude, cells);
  // Cells none of whose nodes the client allows are never asked.
  const asked = new Set<number>();
  if (allowed) for (let cell = 0; cell < cells; cell++) if (!allowed.has(cell)) asked.add(cell);
  let full = 0;
  let refusal: Exclude<SlotResult, { kind: "node" }> = { kind: "unknown_model" };
  let lastError: unknown = null;
  while (full < MAX_CELL_TRIES && asked.size < cells) {
    // The cells of the nodes the client put first, in its order; then the view's choice.
    const cell =
      first.find((c) => !asked.has(c)) ?? chooseCell(view, { model: q.model, exclude: asked, now: Date.now(), random });
    if (cell === null || cell === undefined) break;
    asked.add(cell);
    let reply: AcquireReply;
    try {
      reply = await askCell(env, cell, cells, q);
    } catch (err) {
      // A cell that cannot answer (overloaded, restarting) is one more full cell; if none answers, the client hears
      // why (an overloaded object is a 503 gateway_busy). A lease it granted anyway lapses on its own.
      lastError = err;
      full++;
      continue;
    }
    lastError = null;
    heardFromCell(reply.summary);
    if (reply.kind === "node") {
      view.noteGranted(cell, q.model);
      return {
        kind: "node",
        node: reply.node,
        publicKey: reply.publicKey,
        slot: holdLease(env, ctx, cell, reply.lease),
      };
    }
    if (reply.kind === "saturated") full++;
    if (REFUSAL_RANK[reply.kind] > REFUSAL_RANK[refusal.kind]) refusal = { kind: reply.kind };
  }
  if (lastError !== null && refusal.kind === "unknown_model") throw lastError;
  return refusal;
}

async function askCell(env: Env, cell: number, cells: number, q: SlotQuery): Promise<AcquireReply> {
  const request = {
    cell,
    cells,
    model: q.model,
    controls: q.controls,
    exclude: [...q.exclude],
    attempt: q.attempt,
    bound: q.bound,
  };
  return (await admissionCell(env, cell).acquire(request, Date.now())) as AcquireReply;
}

/**
 * The one owner of a granted lease: renews it while the answer runs, gives it back once. A release that fails leaves
 * the lease to lapse at its expiry (the slot counts as taken until then: never over, at worst idle a while).
 */
function holdLease(env: Env, ctx: ExecutionContext, cell: number, lease: Lease): HeldSlot {
  let held = true;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const renew = (): void => {
    timer = setTimeout(() => {
      if (!held) return;
      ctx.waitUntil(
        admissionCell(env, cell)
          .renew([lease.id], Date.now())
          .then(
            (lost) => {
              if (lost.length > 0) console.error("a streaming answer's lease lapsed", lease.nodeId);
            },
            (err: unknown) => console.error("lease renewal failed", String(err)),
          ),
      );
      renew();
    }, LEASE_RENEW_MS);
  };
  renew();
  return {
    nodeId: lease.nodeId,
    release(outcome) {
      if (!held) return;
      held = false;
      if (timer !== null) clearTimeout(timer);
      ctx.waitUntil(
        admissionCell(env, cell)
          .release([{ leaseId: lease.id, outcome }], Date.now())
          .catch((err: unknown) => console.error("lease release failed", String(err))),
      );
    },
  };
}
