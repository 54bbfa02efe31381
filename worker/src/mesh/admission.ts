// Where a request's node slot comes from: an admission cell (durable/admission-cell), the one object that grants every
// slot at its nodes, so no node is sent more than it accepts however many isolates route. The isolate asks a cell for
// a node; a cell with nothing to offer (full, or none of its nodes fit) is a fast "try another cell", never a round
// trip to a node. Each granted slot is a lease this module's HeldLease owns until the answer ends.
import type { UsageEntry } from "../billing/records.js";
import type { AffordBound } from "../billing/request-budget.js";
import type { AcquireReply, Released } from "../durable/admission-cell/admission-cell.js";
import { admissionCell, admissionCells } from "../durable/names.js";
import {
  type CellView,
  chooseCell,
  controlledCells,
  LEASE_RENEW_MS,
  REFUSAL_RANK,
  type Lease,
  MAX_CELL_TRIES,
  type Outcome,
  type RouteNode,
  type RoutingControls,
} from "../routing/index.js";
import { cellView, heardFromCell } from "./cell-view.js";
import { recordUsage } from "./reporting.js";

/**
 * Cells asked for one pick, whatever they answer: a model no node serves (or controls no node passes) costs at most
 * this many calls, not one per cell. The cells the isolate's view lists for the model are asked first.
 */
export const MAX_CELLS_ASKED = 8;

export interface SlotQuery {
  model: string;
  controls: RoutingControls;
  exclude: ReadonlySet<string>;
  attempt: number;
  bound: AffordBound | null;
}

/**
 * A node's slot held for one attempt: given back once, with what the attempt taught (null: nothing) and the answer's
 * usage row (null: none). Resolves once the row is durable (in the cell's write-ahead, or failing that handed to the
 * isolate's direct path, logged); never rejects. `prompt`: the key has limits, so its account hears of the row at once.
 */
export interface HeldSlot {
  readonly nodeId: string;
  release(outcome: Outcome | null, usage?: UsageEntry | null, prompt?: boolean): Promise<void>;
}

/** Tries of one release at its cell (idempotent there: the lease goes once, the row is kept once). */
const RELEASE_ATTEMPTS = 3;

export type SlotResult =
  | { kind: "node"; node: RouteNode; publicKey: string; slot: HeldSlot }
  | { kind: "unknown_model" | "no_eligible" | "saturated" };

/**
 * Asks cells for a node with a free slot, each chosen by this isolate's view of them (cell-choice.ts); the first that
 * grants one wins. A full cell costs a round trip, so at most MAX_CELL_TRIES full ones are asked, and at most
 * MAX_CELLS_ASKED in all. A cell that cannot answer counts as full; if no cell had a node and one failed, the client
 * hears that failure (a 503 for an overloaded object), not that the model does not exist.
 */
export async function acquireSlot(env: Env, ctx: ExecutionContext, q: SlotQuery): Promise<SlotResult> {
  const cells = admissionCells(env);
  const view = cellView(env, ctx, Date.now());
  const next = nextCell(view, q, cells);
  let full = 0;
  let refusal: Exclude<SlotResult, { kind: "node" }> = { kind: "unknown_model" };
  let failure: { error: unknown } | null = null;
  for (let asked = 0; full < MAX_CELL_TRIES && asked < MAX_CELLS_ASKED; asked++) {
    const cell = next();
    if (cell === null) break;
    let reply: AcquireReply;
    try {
      reply = await askCell(env, cell, cells, q);
    } catch (error) {
      // A lease it granted anyway lapses on its own.
      failure = { error };
      full++;
      continue;
    }
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
  if (failure && refusal.kind !== "saturated") throw failure.error;
  return refusal;
}

/**
 * The order cells are asked in: the cells of the nodes the client put first (`order`), then the cells the view lists
 * for the model, then any other, each at most once, never one none of whose nodes the client allows (`only`).
 */
function nextCell(view: CellView, q: SlotQuery, cells: number): () => number | null {
  const { first, allowed } = controlledCells(q.controls, q.exclude, cells);
  const asked = new Set<number>();
  if (allowed) for (let cell = 0; cell < cells; cell++) if (!allowed.has(cell)) asked.add(cell);
  const unlisted = new Set(asked);
  for (let cell = 0; cell < cells; cell++)
    if (!((view.observed(cell, q.model)?.summary.nodes ?? 0) > 0)) unlisted.add(cell);
  const random = Math.random;
  return () => {
    const choose = (exclude: ReadonlySet<number>): number | null =>
      chooseCell(view, { model: q.model, exclude, now: Date.now(), random });
    const cell = first.find((c) => !asked.has(c)) ?? choose(unlisted) ?? choose(asked);
    if (cell === null) return null;
    asked.add(cell);
    unlisted.add(cell);
    return cell;
  };
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
    release(outcome, usage = null, prompt = false) {
      if (!held) return Promise.resolve();
      held = false;
      if (timer !== null) clearTimeout(timer);
      const released = releaseAtCell(env, cell, {
        leaseId: lease.id,
        outcome,
        usage: usage && { entry: usage, prompt },
      });
      ctx.waitUntil(released);
      return released.then((ok) => {
        if (ok || !usage) return;
        // The cell stays unreachable: the row goes the direct way (the account's outbox sends its earning).
        console.error("usage write-ahead unreachable; recording directly", usage.request_id);
        recordUsage(usage, env, ctx, prompt);
      });
    },
  };
}

/** Gives a lease (and its usage row) back to its cell, retried there; false when every try failed. */
async function releaseAtCell(env: Env, cell: number, released: Released): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admissionCell(env, cell).release([released], Date.now());
      return true;
    } catch (err) {
      if (attempt >= RELEASE_ATTEMPTS) {
        // Without a row, the lease lapses at its expiry; with one, the caller records it another way.
        console.error("lease release failed", String(err));
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
