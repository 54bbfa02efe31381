import { describe, expect, it } from "vitest";
import { nodeCost, rankNodes, type RoutableNode } from "./select.js";

function node(id: string, over: Partial<RoutableNode> = {}): RoutableNode {
  return { id, origin: `http://${id}`, models: new Set(["m"]), capacity: 10, inFlight: 0, latencyMs: 50, reputation: 0.9, ...over };
}

const fixedRandom = () => 0.5;
const none = new Map<string, number>();
const ids = (r: ReturnType<typeof rankNodes>) => (r.kind === "ranked" ? r.nodes.map((n) => n.id) : r.kind);

describe("nodeCost", () => {
  it("grows with latency and with load, and shrinks with reputation", () => {
    expect(nodeCost(node("a", { latencyMs: 100 }), 0)).toBeGreaterThan(nodeCost(node("a", { latencyMs: 50 }), 0));
    expect(nodeCost(node("a"), 3)).toBe(nodeCost(node("a"), 0) * 4);
    expect(nodeCost(node("a", { reputation: 0.3 }), 0)).toBeGreaterThan(nodeCost(node("a", { reputation: 0.9 }), 0));
  });

  it("uses an optimistic prior for unmeasured nodes so they get tried", () => {
    expect(nodeCost(node("new", { latencyMs: null }), 0)).toBeLessThan(nodeCost(node("slow", { latencyMs: 200 }), 0));
  });

  it("bounds the effect of a zero reputation", () => {
    expect(Number.isFinite(nodeCost(node("a", { reputation: 0 }), 0))).toBe(true);
  });
});

describe("rankNodes", () => {
  const opts = { model: "m", localInFlight: none, random: fixedRandom, maxAttempts: 3 };

  it("orders by cost: the fastest first, then the rest as failover", () => {
    const nodes = [node("slow", { latencyMs: 200 }), node("fast", { latencyMs: 20 }), node("mid", { latencyMs: 60 })];
    expect(ids(rankNodes(nodes, opts))).toEqual(["fast", "mid", "slow"]);
  });

  it("moves traffic away from a loaded fast node", () => {
    const nodes = [node("fast", { latencyMs: 20, inFlight: 5 }), node("mid", { latencyMs: 60 })];
    expect(ids(rankNodes(nodes, opts))[0]).toBe("mid");
  });

  it("counts this isolate's own open requests as load", () => {
    const nodes = [node("fast", { latencyMs: 20 }), node("mid", { latencyMs: 60 })];
    expect(ids(rankNodes(nodes, { ...opts, localInFlight: new Map([["fast", 5]]) }))[0]).toBe("mid");
  });

  it("prefers a reliable node over a slightly faster unreliable one", () => {
    const nodes = [node("flaky", { latencyMs: 40, reputation: 0.2 }), node("solid", { latencyMs: 60, reputation: 0.95 })];
    expect(ids(rankNodes(nodes, opts))[0]).toBe("solid");
  });

  it("skips nodes at capacity", () => {
    const nodes = [node("full", { latencyMs: 1, capacity: 2, inFlight: 2 }), node("free")];
    expect(ids(rankNodes(nodes, opts))).toEqual(["free"]);
  });

  it("only considers nodes that serve the model", () => {
    const nodes = [node("other", { models: new Set(["x"]), latencyMs: 1 }), node("right")];
    expect(ids(rankNodes(nodes, opts))).toEqual(["right"]);
  });

  it("tells an unknown model apart from a saturated one", () => {
    expect(ids(rankNodes([], opts))).toBe("unknown_model");
    expect(ids(rankNodes([node("a", { models: new Set(["x"]) })], opts))).toBe("unknown_model");
    expect(ids(rankNodes([node("a", { capacity: 1, inFlight: 1 })], opts))).toBe("saturated");
  });

  it("limits the list to the attempt budget", () => {
    const nodes = Array.from({ length: 10 }, (_, i) => node(`n${i}`, { latencyMs: 10 + i }));
    expect(ids(rankNodes(nodes, opts))).toEqual(["n0", "n1", "n2"]);
  });

  it("works with a single node", () => {
    expect(ids(rankNodes([node("only")], opts))).toEqual(["only"]);
  });

  it("breaks ties with the random source so equal nodes share traffic", () => {
    const nodes = [node("a"), node("b")];
    const values = [0.9, 0.1];
    let i = 0;
    const first = ids(rankNodes(nodes, { ...opts, random: () => values[i++ % 2]! }))[0];
    i = 0;
    values.reverse();
    const second = ids(rankNodes(nodes, { ...opts, random: () => values[i++ % 2]! }))[0];
    expect(new Set([first, second])).toEqual(new Set(["a", "b"]));
  });
});
