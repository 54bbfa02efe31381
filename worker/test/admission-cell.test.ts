// The admission cell's one promise: however many isolates ask, however they come and go, and across the object's own
// restart, it never holds more leases at a node than the node declared it accepts.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type AcquireReply, type AcquireRequest, AdmissionCell } from "../src/durable/admission-cell/admission-cell.js";
import { requestShape } from "../src/billing/request-shape.js";
import { LEASE_TTL_MS, NO_CONTROLS } from "../src/routing/index.js";
import { admissionCell, admissionCells } from "../src/durable/names.js";
import { cellOf } from "../src/routing/index.js";
import { newNode, register, registerRoutable } from "./helpers.js";

let cellCounter = 0;

/** A cell of its own (one of one, so it decides for every node) and two fresh nodes of capacity 3 serving a model only they serve. */
async function freshCell(
  capacity = 3,
): Promise<{ cell: DurableObjectStub<AdmissionCell>; model: string; nodes: string[] }> {
  const model = `cell-model-${++cellCounter}-${crypto.randomUUID()}`;
  const nodes: string[] = [];
  for (let i = 0; i < 2; i++) {
    const node = await newNode();
    const res = await registerRoutable(node, { capacity, models: [{ id: model, owned_by: "test" }] });
    expect(res.ok).toBe(true);
    nodes.push(node.id);
  }
  return { cell: env.CELLS.get(env.CELLS.idFromName(`test-cell:${model}`)), model, nodes };
}

function request(model: string, over: Partial<AcquireRequest> = {}): AcquireRequest {
  return { cell: 0, cells: 1, model, controls: NO_CONTROLS(model), exclude: [], attempt: 0, bound: null, ...over };
}

type Granted = Extract<AcquireReply, { kind: "node" }>;

async function fill(
  cell: DurableObjectStub<AdmissionCell>,
  model: string,
  tries: number,
  now: number,
): Promise<Granted[]> {
  const replies = (await Promise.all(
    Array.from({ length: tries }, () => cell.acquire(request(model), now)),
  )) as AcquireReply[];
  return replies.filter((r): r is Granted => r.kind === "node");
}

function perNode(granted: readonly Granted[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const g of granted) counts.set(g.node.id, (counts.get(g.node.id) ?? 0) + 1);
  return counts;
}

describe("AdmissionCell", () => {
  it("grants at most each node's capacity to concurrent acquires, then says saturated", async () => {
    const { cell, model, nodes } = await freshCell();
    const now = Date.now();
    const granted = await fill(cell, model, 20, now);
    expect(granted).toHaveLength(6);
    for (const id of nodes) expect(perNode(granted).get(id)).toBe(3);
    expect((await cell.acquire(request(model), now)).kind).toBe("saturated");
    expect(await cell.held()).toEqual(Object.fromEntries(nodes.map((id) => [id, 3])));
  });

  it("grants a released slot again, once, and a second release of the same lease frees nothing", async () => {
    const { cell, model } = await freshCell();
    const now = Date.now();
    const granted = await fill(cell, model, 6, now);
    const first = granted[0];
    if (!first) throw new Error("nothing granted");
    await cell.release([{ leaseId: first.lease.id, outcome: null }], now);
    await cell.release([{ leaseId: first.lease.id, outcome: null }], now);
    const again = await fill(cell, model, 4, now);
    expect(again).toHaveLength(1);
    expect(again[0]?.node.id).toBe(first.node.id);
  });

  it("keeps the slots of a holder that vanished until its leases lapse, then grants them again", async () => {
    const { cell, model } = await freshCell();
    const now = Date.now();
    expect(await fill(cell, model, 6, now)).toHaveLength(6);
    // The isolate that took them died: nothing is released or renewed.
    expect(await fill(cell, model, 6, now + LEASE_TTL_MS - 1)).toHaveLength(0);
    expect(await fill(cell, model, 10, now + LEASE_TTL_MS)).toHaveLength(6);
  });

  it("keeps a renewed lease past its first expiry and names the leases it no longer holds", async () => {
    const { cell, model } = await freshCell(1);
    const now = Date.now();
    const granted = await fill(cell, model, 2, now);
    expect(granted).toHaveLength(2);
    const ids = granted.map((g) => g.lease.id);
    expect(await cell.renew([ids[0] ?? "", "never-granted"], now + LEASE_TTL_MS - 10)).toEqual(["never-granted"]);
    // The unrenewed lease lapsed; the renewed one still holds its node.
    const later = await fill(cell, model, 3, now + LEASE_TTL_MS + 1);
    expect(later).toHaveLength(1);
    expect(later[0]?.node.id).toBe(granted[1]?.node.id);
    expect(await cell.renew([ids[1] ?? ""], now + LEASE_TTL_MS + 2)).toEqual([ids[1]]);
  });

  it("still counts every lease after the object restarts (leases are on disk, not only in memory)", async () => {
    const { cell, model, nodes } = await freshCell();
    const now = Date.now();
    expect(await fill(cell, model, 4, now)).toHaveLength(4);
    // A new instance over the same storage is what a restart (eviction, crash, deploy) leaves.
    const afterRestart = await runInDurableObject(cell, async (_obj, state) => {
      const restarted = new AdmissionCell(state, env);
      const replies = await Promise.all(Array.from({ length: 6 }, () => restarted.acquire(request(model), now)));
      return replies.filter((r) => r.kind === "node").length;
    });
    expect(afterRestart).toBe(2);
    const held = await cell.held();
    for (const id of nodes) expect(held[id]).toBe(3);
  });

  it("leaves out nodes too dear for the request's budget bound", async () => {
    const model = `cell-priced-${crypto.randomUUID()}`;
    const cheap = await newNode();
    const dear = await newNode();
    await registerRoutable(cheap, { models: [{ id: model, owned_by: "t", price: { prompt: 1, completion: 1 } }] });
    await registerRoutable(dear, {
      models: [{ id: model, owned_by: "t", price: { prompt: 9_000_000, completion: 9_000_000 } }],
    });
    const cell = env.CELLS.get(env.CELLS.idFromName(`test-cell:${model}`));
    const shape = requestShape({ max_tokens: 100 }, true);
    const bound = { bodyBytes: 100, shape, feeBps: 0, held: 0, left: 1_000 };
    const now = Date.now();
    for (let i = 0; i < 4; i++) {
      const reply = (await cell.acquire(request(model, { bound }), now)) as AcquireReply;
      expect(reply.kind === "node" && reply.node.id).toBe(cheap.id);
    }
  });

  it("tells the asking isolate its fresh figures with every reply, and the directory about once a second", async () => {
    const { cell, model } = await freshCell();
    const now = Date.now();
    const first = (await cell.acquire(request(model), now)) as AcquireReply;
    const second = (await cell.acquire(request(model), now)) as AcquireReply;
    expect(first.kind).toBe("node");
    expect(first.summary.cell).toBe(0);
    expect(first.summary.models[model]?.nodes).toBe(2);
    // Each grant takes a slot, and the next reply already says so.
    const freeAfter = (reply: AcquireReply): number => reply.summary.models[model]?.free ?? Number.NaN;
    expect(freeAfter(second)).toBe(freeAfter(first) - 1);
    const directory = await env.DIRECTORY.get(env.DIRECTORY.idFromName("directory")).read(Date.now());
    expect(directory.cells.some((c) => c.models[model] !== undefined)).toBe(true);
  });

  it("learns from what a released lease's attempt taught, and passes it on to the registry", async () => {
    const { cell, model } = await freshCell();
    const now = Date.now();
    const granted = (await cell.acquire(request(model), now)) as AcquireReply;
    if (granted.kind !== "node") throw new Error("nothing granted");
    const outcome = {
      nodeId: granted.node.id,
      model,
      kind: "success" as const,
      at: now,
      ttftMs: 42,
      tokens: 10,
      streamMs: 100,
      inFlight: null,
    };
    await cell.release([{ leaseId: granted.lease.id, outcome }], now);
    const registry = env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
    let samples = 0;
    for (let i = 0; i < 50 && samples === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const listed = (await registry.snapshot(Date.now())).find((n) => n.id === granted.node.id);
      samples = listed?.state.perf[model]?.samples ?? 0;
    }
    expect(samples).toBe(1);
  });

  it("keeps nothing for model names no node of it serves (a client's made-up names cost no memory)", async () => {
    const cell = env.CELLS.get(env.CELLS.idFromName(`test-cell:made-up-${crypto.randomUUID()}`));
    for (let i = 0; i < 50; i++) {
      const model = `made-up-${i}-${"x".repeat(200)}`;
      const reply = (await cell.acquire(request(model), Date.now())) as AcquireReply;
      expect(reply.kind).toBe("unknown_model");
      expect(reply.summary.models).toEqual({});
    }
    const kept = await runInDurableObject(
      cell,
      (obj) => (obj as unknown as { summaries: Map<string, unknown> }).summaries.size,
    );
    expect(kept).toBe(0);
  });

  it("is told of a node's capacity flips at most once per 10 s: a node cannot make its cell read the registry on every request", async () => {
    const model = `flip-${crypto.randomUUID()}`;
    const node = await newNode();
    await registerRoutable(node, { capacity: 4, models: [{ id: model, owned_by: "t" }] });
    const cells = admissionCells(env);
    const number = cellOf(node.id, cells);
    const cell = admissionCell(env, number);
    const acquire = () => cell.acquire(request(model, { cell: number, cells }), Date.now());
    await acquire();
    const generation = () =>
      runInDurableObject(cell, (obj) => (obj as unknown as { listing: { generation: number } }).listing.generation);
    const before = await generation();
    for (let i = 0; i < 8; i++) {
      const res = await register(node, { capacity: i % 2 === 0 ? 5 : 4, models: [{ id: model, owned_by: "t" }] });
      expect(res.ok).toBe(true);
      await acquire();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await generation()) - before).toBeLessThanOrEqual(1);
  });

  it("decides for its own share of the nodes whatever an isolate believes the number of cells is", async () => {
    const model = `own-share-${crypto.randomUUID()}`;
    const node = await newNode();
    await registerRoutable(node, { models: [{ id: model, owned_by: "t" }] });
    const cells = admissionCells(env);
    const owner = cellOf(node.id, cells);
    const other = admissionCell(env, (owner + 1) % cells);
    // An isolate configured with one cell asks another cell as if it held every node: it grants nothing of the node's.
    const misled = (await other.acquire(request(model, { cell: 0, cells: 1 }), Date.now())) as AcquireReply;
    expect(misled.kind).toBe("unknown_model");
    const right = (await admissionCell(env, owner).acquire(
      request(model, { cell: 0, cells: 1 }),
      Date.now(),
    )) as AcquireReply;
    expect(right.kind === "node" && right.node.id).toBe(node.id);
  });
});
