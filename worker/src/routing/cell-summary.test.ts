import { describe, expect, it } from "vitest";
import { addTerms, modelSummary, NO_TERMS, summarizeCell, summaryTerms } from "./cell-summary.js";
import { expectedTtft, UNPROVEN_SLOTS, type RouteNode } from "./node-estimates.js";
import { newNodeState } from "./node-state.js";
import { EJECT_AFTER_CONSECUTIVE } from "./outlier.js";
import { buildTable, observeInTable, type RoutingTable } from "./routing-table.js";

const M = "m";
const NOW = 1_000_000;

function node(id: string, capacity: number, models: readonly string[] = [M]): RouteNode {
  return {
    id,
    origin: `https://${id}.test`,
    transport: "direct",
    declaredCapacity: capacity,
    othersInFlight: 0,
    contextLengths: new Map(),
    responsesApi: new Set(),
    models: new Map(models.map((m) => [m, null])),
    state: newNodeState(0),
    probe: null,
  };
}

/** `answers` good answers at `ttftMs` each: enough (≥ 3) proves the node for M. */
function answer(table: RoutingTable, id: string, ttftMs: number, answers = 20): void {
  for (let i = 0; i < answers; i++)
    observeInTable(table, {
      nodeId: id,
      model: M,
      kind: "success",
      at: NOW - 1000 + i,
      ttftMs,
      tokens: 100,
      streamMs: 1000,
      inFlight: 0,
    });
}

function eject(table: RoutingTable, id: string): void {
  for (let i = 0; i < EJECT_AFTER_CONSECUTIVE + 1; i++)
    observeInTable(table, {
      nodeId: id,
      model: M,
      kind: "error",
      at: NOW - 10 + i,
      ttftMs: null,
      tokens: null,
      streamMs: null,
      inFlight: 0,
    });
}

describe("summarizeCell", () => {
  it("counts free slots as Σ max(0, capacity − load) over nodes not ejected", () => {
    const nodes = [node("a", 8), node("b", 4), node("c", 4), node("d", 16)];
    const table = buildTable(nodes, 0);
    for (const n of nodes) answer(table, n.id, 100);
    eject(table, "d");
    const loads: Record<string, number> = { a: 3, b: 6, c: 0, d: 0 };
    const s = summarizeCell(2, table, (n) => loads[n.id] ?? 0, NOW);
    expect(s.cell).toBe(2);
    expect(s.at).toBe(NOW);
    // a: 5, b: over its capacity counts 0 (not −2), c: 4, d: ejected.
    expect(s.models.get(M)).toMatchObject({ free: 9, nodes: 4 });
  });

  it("counts an unproven node's room as the trickle it may take, and gives no latency without a proven node", () => {
    const table = buildTable([node("new", 32)], 0);
    const s = summarizeCell(0, table, () => 0, NOW);
    expect(s.models.get(M)).toEqual({ free: UNPROVEN_SLOTS, ttftMs: null, nodes: 1 });
  });

  it("gives the latency a pick is likely to see: fast nodes with room weigh most, full ones not at all", () => {
    const table = buildTable([node("fast", 4), node("slow", 4)], 0);
    answer(table, "fast", 50);
    answer(table, "slow", 400);
    const fast = table.nodes.get("fast");
    const slow = table.nodes.get("slow");
    if (!fast || !slow) throw new Error("nodes missing");
    const idle = summarizeCell(0, table, () => 0, NOW).models.get(M)?.ttftMs ?? 0;
    expect(idle).toBeGreaterThanOrEqual(expectedTtft(fast, M, NOW));
    // 1/latency⁴: the slow node is drawn 8⁴ times less often, so the likely latency is close to the fast node's.
    expect(idle).toBeLessThan(expectedTtft(fast, M, NOW) * 1.01);
    const fastFull = summarizeCell(0, table, (n) => (n.id === "fast" ? 4 : 0), NOW).models.get(M);
    expect(fastFull?.ttftMs).toBeCloseTo(expectedTtft(slow, M, NOW), 6);
    expect(fastFull?.free).toBe(4);
    const allFull = summarizeCell(0, table, () => 4, NOW).models.get(M);
    expect(allFull).toEqual({ free: 0, ttftMs: null, nodes: 2 });
  });

  it("summarises each model the cell lists", () => {
    const table = buildTable([node("a", 2, [M, "other"]), node("b", 2, ["other"])], 0);
    const s = summarizeCell(0, table, () => 0, NOW);
    expect([...s.models.keys()].sort()).toEqual([M, "other"]);
    expect(s.models.get("other")?.nodes).toBe(2);
  });
});

describe("summary terms", () => {
  it("add up to the summary from scratch, and come back off exactly", () => {
    const nodes = [node("a", 8), node("b", 4), node("c", 2)];
    const table = buildTable(nodes, 0);
    answer(table, "a", 120);
    answer(table, "b", 80);
    const pool = table.pools.get(M);
    if (!pool) throw new Error("no pool");
    let sum = NO_TERMS;
    for (const n of nodes) sum = addTerms(sum, summaryTerms(pool, n, 1, NOW));
    const scratch = summarizeCell(0, table, () => 1, NOW).models.get(M);
    expect(modelSummary(sum, 3)).toEqual(scratch);
    // A lease on b: take its old terms off, put its new ones on.
    const b = nodes[1];
    if (!b) throw new Error("no b");
    sum = addTerms(addTerms(sum, summaryTerms(pool, b, 1, NOW), -1), summaryTerms(pool, b, 2, NOW));
    expect(modelSummary(sum, 3).free).toBe((scratch?.free ?? 0) - 1);
  });

  it("reads a sum worn to rounding noise as empty, not as a latency from 0/0", () => {
    expect(modelSummary({ free: 1e-12, weight: 1e-320, weightedTtft: 1e-318 }, 3)).toEqual({
      free: 0,
      ttftMs: null,
      nodes: 3,
    });
  });
});
