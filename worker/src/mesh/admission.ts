// Where a request's node slot comes from: an admission cell (durable/admission-cell), the one object that grants every
// slot at its nodes, so no node is sent more than it accepts however many isolates route. The isolate asks a cell for
// a node; a cell with nothing to offer (full, or none of its nodes fit) is a fast "try another cell", never a round
// trip to a node. Each granted slot is a lease this module's HeldLease owns until the answer ends.
import type { AffordBound } from "../billing/request-budget.js";
import type { AcquireReply } from "../durable/admission-cell/admission-cell.js";
import { LEASE_TTL_MS } from "../durable/admission-cell/admission-cell.js";
import { admissionCell, admissionCells } from "../durable/names.js";
import type { Lease, Outcome, RouteNode, RoutingControls } from "../routing/index.js";

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

/** When no cell offered a node, the most hopeful reason is the answer: "busy, retry" beats "filtered" beats "unknown". */
const REFUSAL_RANK = { unknown_model: 0, no_eligible: 1, saturated: 2 } as const;

/** The cells to ask, in order: each at most once per pick (a random order, so no cell is everyone's first). */
function cellOrder(cells: number, random: () => number): number[] {
  const order = Array.from({ length: cells }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  return order;
}

/** Asks cells for a node with a free slot; the first that grants one wins. */
export async function acquireSlot(env: Env, ctx: ExecutionContext, q: SlotQuery): Promise<SlotResult> {
  const cells = admissionCells(env);
  let refusal: Exclude<SlotResult, { kind: "node" }> = { kind: "unknown_model" };
  for (const cell of cellOrder(cells, Math.random)) {
    const reply = (await admissionCell(env, cell).acquire(
      {
        cell,
        cells,
        model: q.model,
        controls: q.controls,
        exclude: [...q.exclude],
        attempt: q.attempt,
        bound: q.bound,
      },
      Date.now(),
    )) as AcquireReply;
    if (reply.kind === "node")
      return {
        kind: "node",
        node: reply.node,
        publicKey: reply.publicKey,
        slot: holdLease(env, ctx, cell, reply.lease),
      };
    if (REFUSAL_RANK[reply.kind] > REFUSAL_RANK[refusal.kind]) refusal = { kind: reply.kind };
  }
  return refusal;
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
