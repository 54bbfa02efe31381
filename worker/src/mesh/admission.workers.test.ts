// The isolate's side of admission against fake cells: how many cells one pick may cost, which are asked first, and
// what the client hears when a cell cannot answer.
import { describe, expect, it } from "vitest";
import type { UsageEntry } from "../billing/records.js";
import type { AcquireRequest } from "../durable/admission-cell/admission-cell.js";
import type { CellSummaryJson } from "../durable/cell-directory/summary-json.js";
import { NO_CONTROLS } from "../routing/index.js";
import { acquireSlot, MAX_CELLS_ASKED } from "./admission.js";
import { forgetCellView, heardFromCell } from "./cell-view.js";

type Behaviour = (req: AcquireRequest) => Promise<unknown>;

/**
 * An env whose cells all answer with `behave`; records which cells were asked, the leases given back (with the usage
 * rows that came with them), and the rows recorded directly in accounts. `failReleases`: every release throws.
 */
function fakeEnv(
  cells: number,
  behave: Behaviour,
  failReleases = false,
): { env: Env; asked: number[]; released: string[]; rows: string[]; recorded: string[] } {
  const asked: number[] = [];
  const released: string[] = [];
  const rows: string[] = [];
  const recorded: string[] = [];
  const fake = {
    ADMISSION_CELLS: String(cells),
    CELLS: {
      idFromName: (name: string) => name,
      get: () => ({
        acquire: async (req: AcquireRequest) => {
          asked.push(req.cell);
          return behave(req);
        },
        renew: async () => [],
        release: async (leases: { leaseId: string; usage?: { entry: UsageEntry } | null }[]) => {
          if (failReleases) throw new Error("Durable Object is overloaded");
          for (const l of leases) {
            released.push(l.leaseId);
            if (l.usage) rows.push(l.usage.entry.request_id);
          }
        },
      }),
    },
    ACCOUNTS: {
      idFromName: (name: string) => name,
      get: () => ({
        record: async (entries: UsageEntry[]) => {
          for (const e of entries) recorded.push(e.request_id);
          return entries.length;
        },
      }),
    },
    DIRECTORY: { idFromName: () => "d", get: () => ({ read: async () => ({ version: 0, cells: [] }) }) },
  };
  return { env: fake as unknown as Env, asked, released, rows, recorded };
}

const ctx = { waitUntil: () => {}, passThroughOnException: () => {} } as unknown as ExecutionContext;

function summary(cell: number, model: string, nodes: number, free = 0): CellSummaryJson {
  return { cell, at: Date.now(), models: nodes > 0 ? { [model]: { free, ttftMs: 100, nodes } } : {} };
}

function query(model: string) {
  return { model, controls: NO_CONTROLS(model), exclude: new Set<string>(), attempt: 0, bound: null };
}

describe("acquireSlot", () => {
  it("asks at most MAX_CELLS_ASKED cells for a model no node serves, however many cells there are", async () => {
    forgetCellView();
    const model = `bogus-${crypto.randomUUID()}`;
    const { env, asked } = fakeEnv(64, async (req) => ({
      kind: "unknown_model",
      summary: summary(req.cell, model, 0),
    }));
    expect((await acquireSlot(env, ctx, query(model))).kind).toBe("unknown_model");
    expect(asked.length).toBe(MAX_CELLS_ASKED);
    expect(new Set(asked).size).toBe(asked.length);
  });

  it("asks first the cells its view lists for the model", async () => {
    forgetCellView();
    const model = `listed-${crypto.randomUUID()}`;
    const { env, asked } = fakeEnv(64, async (req) => ({
      kind: "saturated",
      summary: summary(req.cell, req.model, 1),
    }));
    // A first pick (of another model: its replies list only that one) makes the view; then cells 40 and 41 report nodes of the model, full for now: free slots alone
    // would not lead to them (every cell looks alike then), only that they serve the model.
    await acquireSlot(env, ctx, query("warm-up"));
    asked.length = 0;
    heardFromCell(summary(40, model, 3, 0));
    heardFromCell(summary(41, model, 2, 0));
    await acquireSlot(env, ctx, query(model));
    expect(new Set(asked.slice(0, 2))).toEqual(new Set([40, 41]));
  });

  it("reports a cell that could not answer, not that the model does not exist", async () => {
    forgetCellView();
    let first = true;
    const { env } = fakeEnv(2, async (req) => {
      if (first) {
        first = false;
        throw new Error("Durable Object is overloaded");
      }
      return { kind: "unknown_model", summary: summary(req.cell, req.model, 0) };
    });
    // The cell that failed may hold every node of the model: the client hears 503 (overloaded), not 404.
    await expect(acquireSlot(env, ctx, query("served-by-the-cell-that-failed"))).rejects.toThrow(/overloaded/);
  });

  it("says saturated when one cell is full even if another failed", async () => {
    forgetCellView();
    let calls = 0;
    const { env } = fakeEnv(2, async (req) => {
      if (calls++ === 0) throw new Error("Durable Object is overloaded");
      return { kind: "saturated", summary: summary(req.cell, req.model, 1) };
    });
    expect((await acquireSlot(env, ctx, query("m"))).kind).toBe("saturated");
  });

  it("gives a granted lease back once, with the outcome, however often its holder releases it", async () => {
    forgetCellView();
    const model = "granted";
    const node = { id: "n1" };
    const { env, released } = fakeEnv(1, async (req) => ({
      kind: "node",
      lease: { id: "lease-1", nodeId: node.id, expiresAt: Date.now() + 60_000 },
      node,
      publicKey: "",
      summary: summary(req.cell, model, 1, 1),
    }));
    const waited: Promise<unknown>[] = [];
    const counting = { waitUntil: (p: Promise<unknown>) => waited.push(p), passThroughOnException: () => {} };
    const picked = await acquireSlot(env, counting as unknown as ExecutionContext, query(model));
    if (picked.kind !== "node") throw new Error("nothing granted");
    await picked.slot.release(null);
    await picked.slot.release(null);
    await Promise.all(waited);
    expect(released).toEqual(["lease-1"]);
  });

  /** A slot granted by a fake cell whose releases succeed or (`failReleases`) always fail. */
  async function grantedSlot(failReleases: boolean) {
    forgetCellView();
    const model = `usage-${crypto.randomUUID()}`;
    const fake = fakeEnv(
      1,
      async (req) => ({
        kind: "node",
        lease: { id: "lease-u", nodeId: "n1", expiresAt: Date.now() + 60_000 },
        node: { id: "n1" },
        publicKey: "",
        summary: summary(req.cell, model, 1, 1),
      }),
      failReleases,
    );
    const waited: Promise<unknown>[] = [];
    const counting = { waitUntil: (p: Promise<unknown>) => waited.push(p), passThroughOnException: () => {} };
    const picked = await acquireSlot(fake.env, counting as unknown as ExecutionContext, query(model));
    if (picked.kind !== "node") throw new Error("nothing granted");
    return { ...fake, slot: picked.slot, waited };
  }

  const row = { request_id: "req_u1", key_id: "key_u" } as UsageEntry;

  it("hands the usage row to the cell with the lease, and records nothing directly", async () => {
    const { slot, waited, released, rows, recorded } = await grantedSlot(false);
    await slot.release(null, row, true);
    await Promise.all(waited);
    expect(released).toEqual(["lease-u"]);
    expect(rows).toEqual(["req_u1"]);
    expect(recorded).toEqual([]);
  });

  it("records the row directly in its account when the cell cannot be reached", async () => {
    const { slot, waited, rows, recorded } = await grantedSlot(true);
    await slot.release(null, row, true);
    await Promise.all(waited);
    expect(rows).toEqual([]);
    expect(recorded).toEqual(["req_u1"]);
  });
});
