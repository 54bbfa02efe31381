import type { Price } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import type { RouteNode } from "./node-estimates.js";
import { newNodeState, observe, type NodeState } from "./node-state.js";
import { pickNode } from "./pick.js";
import { blendedPrice, CHEAPEST_FACTOR, priceFactor, referencePrice } from "./price-preference.js";
import { NO_CONTROLS } from "./client-controls.js";
import { buildTable } from "./routing-table.js";
import { seededRandom } from "./seeded-random.js";

const NOW = 1_000_000;

describe("price preference", () => {
  it("blends a price into one number and finds the pool's usual one (the median)", () => {
    expect(blendedPrice(null)).toBe(0);
    expect(blendedPrice({ prompt: 100, completion: 300 })).toBe(400);
    expect(referencePrice([])).toBe(0);
    expect(referencePrice([5, 1, 100])).toBe(5);
    expect(referencePrice([1, 2, 3, 1_000_000])).toBe(2.5);
  });

  it("weighs each price by what its node counts for, leaving out weight 0, and falls back to a plain median", () => {
    // Two dear identities that cannot take traffic do not move the reference off the cheap nodes' price.
    expect(referencePrice([500, 500, 25_000, 50_000, 50_000], [1, 1, 1, 0, 0])).toBe(500);
    // Weight decides, not the count: one trusted node outweighs three barely trusted ones.
    expect(referencePrice([100, 900, 900, 900], [1, 0.1, 0.1, 0.1])).toBe(100);
    // Exactly half the weight on each side: halfway between the two weighted prices, skipping weight-0 ones between.
    expect(referencePrice([100, 200, 300], [1, 0, 1])).toBe(200);
    expect(referencePrice([100, 150, 300], [1, 0, 1])).toBe(200);
    // Nobody can be drawn (all new, say): the plain median; nonsense weights count as 0.
    expect(referencePrice([5, 1, 100], [0, 0, 0])).toBe(5);
    expect(referencePrice([5, 1, 100], [Number.NaN, -1, 0])).toBe(5);
  });

  it("makes a cheaper node look a little faster and a dearer one much slower", () => {
    expect(priceFactor(0, 1_000)).toBe(CHEAPEST_FACTOR);
    expect(priceFactor(1_000, 1_000)).toBe(1);
    expect(priceFactor(500, 1_000)).toBeCloseTo(0.9, 9);
    expect(priceFactor(2_000, 1_000)).toBeCloseTo(2.25, 9);
    expect(priceFactor(10_000, 1_000)).toBeCloseTo(30.25, 9);
    // Every other node free: any price is far above them.
    expect(priceFactor(4_000_000, 0)).toBeGreaterThan(1e10);
    expect(Number.isFinite(priceFactor(2e12, 0))).toBe(true);
  });
});

/** A node measured at `ttftMs` over many good answers, so trust and latency are settled. */
function node(id: string, price: Price | null, ttftMs = 100): RouteNode {
  let state: NodeState = newNodeState(0);
  for (let i = 0; i < 50; i++) {
    state = observe(
      state,
      {
        nodeId: id,
        model: "m",
        kind: "success",
        at: NOW - 1_000 + i,
        ttftMs,
        tokens: 40,
        streamMs: 1_000,
        inFlight: null,
      },
      { declaredCapacity: 64, mayEject: true },
    );
  }
  return {
    id,
    origin: `https://${id}.example`,
    transport: "direct",
    declaredCapacity: 64,
    othersInFlight: 0,
    models: new Map([["m", price]]),
    contextLengths: new Map(),
    responsesApi: new Set(),
    state,
    probe: null,
  };
}

function shares(nodes: RouteNode[], picks = 4_000): Map<string, number> {
  const table = buildTable(nodes, NOW);
  const random = seededRandom(7);
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const picked = pickNode(table, {
      model: "m",
      controls: NO_CONTROLS("m"),
      now: NOW,
      random,
      load: () => 0,
      exclude: new Set(),
      attempt: 0,
    });
    if (picked.kind === "node") counts.set(picked.node.id, (counts.get(picked.node.id) ?? 0) + 1);
  }
  return counts;
}

describe("price-aware default routing", () => {
  it("prefers the cheaper of nodes of equal speed and trust", () => {
    const counts = shares([
      node("cheap", { prompt: 100, completion: 300 }),
      node("usual", { prompt: 200, completion: 600 }),
      node("usual2", { prompt: 200, completion: 600 }),
    ]);
    expect(counts.get("cheap") ?? 0).toBeGreaterThan(counts.get("usual") ?? 0);
  });

  it("gives a node priced far above its peers almost nothing", () => {
    const peers = Array.from({ length: 5 }, (_, i) => node(`peer${i}`, { prompt: 200, completion: 600 }));
    const counts = shares([...peers, node("greedy", { prompt: 1_000_000_000_000, completion: 1_000_000_000_000 })]);
    expect(counts.get("greedy") ?? 0).toBeLessThanOrEqual(4);
  });

  it("does not let dear identities that cannot take traffic (new, ejected) make a dear node look usual", () => {
    const usual = { prompt: 200, completion: 600 };
    const ceiling = { prompt: 50_000, completion: 150_000 };
    const peers = [node("peer0", usual), node("peer1", usual)];
    const newcomers = Array.from(
      { length: 3 },
      (_, i): RouteNode => ({ ...node(`new${i}`, ceiling), state: newNodeState(NOW) }),
    );
    const ejected = Array.from({ length: 3 }, (_, i): RouteNode => {
      const proven = node(`ejected${i}`, ceiling);
      return {
        ...proven,
        state: { ...proven.state, outlier: { ...proven.state.outlier, ejectedUntil: NOW + 30_000 } },
      };
    });
    // Twice as fast as its peers at fifty times their price: were the crowd's price the reference, it would win.
    const counts = shares([
      ...peers,
      node("dear", { prompt: 10_000, completion: 30_000 }, 50),
      ...newcomers,
      ...ejected,
    ]);
    expect(counts.get("dear") ?? 0).toBeLessThanOrEqual(4);
  });

  it("still lets price break near-ties only: a much faster node beats a slightly cheaper slow one", () => {
    const counts = shares([
      node("fast", { prompt: 200, completion: 600 }, 50),
      node("slow-cheap", { prompt: 150, completion: 450 }, 200),
    ]);
    expect(counts.get("fast") ?? 0).toBeGreaterThan(counts.get("slow-cheap") ?? 0);
  });
});
