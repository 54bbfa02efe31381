import type { Price } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { seededRandom as mulberry32 } from "./seeded-random.js";
import {
  capacityOf,
  expectedTtft,
  EXPLORE_BELOW_SAMPLES,
  trustOf,
  type ProbeView,
  type RouteNode,
} from "./node-estimates.js";
import { newNodeState, observe, perfOf, type NodeState } from "./node-state.js";
import type { Outcome, OutcomeKind } from "./outcome.js";
import { EJECT_AFTER_CONSECUTIVE, isEjected, maxEjected } from "./outlier.js";
import {
  buildTable,
  drawWeighted,
  LATENCY_POWER,
  nodeCost,
  noteLoad,
  observeInTable,
  samplingWeight,
  TRUST_POWER,
  type ModelPool,
  type RoutingTable,
} from "./routing-table.js";
import { WeightedSampler } from "./weighted-sampler.js";

const NOW = 1_000_000;

function outcome(id: string, kind: OutcomeKind, at: number, extra: Partial<Outcome> = {}): Outcome {
  const ok = kind === "success";
  return {
    nodeId: id,
    model: "m",
    kind,
    at,
    ttftMs: ok ? 100 : null,
    tokens: ok ? 40 : null,
    streamMs: ok ? 1_000 : null,
    inFlight: null,
    ...extra,
  };
}

interface NodeSpec {
  capacity?: number;
  models?: Record<string, Price | null>;
  /** Successful answers measured for every model, this first-token latency. */
  ttftMs?: number;
  successes?: number;
  failures?: number;
  probe?: ProbeView | null;
  ejected?: boolean;
}

function routeNode(id: string, spec: NodeSpec = {}): RouteNode {
  const capacity = spec.capacity ?? 8;
  const models = spec.models ?? { m: null };
  let state: NodeState = newNodeState(0);
  const feed = (o: Outcome): void => {
    state = observe(state, o, { declaredCapacity: capacity, mayEject: true });
  };
  const n = spec.successes ?? (spec.ttftMs === undefined ? 0 : 50);
  let t = NOW - 1_000;
  // Failures spread among successes (each followed by 5), so they never eject by themselves: 10 among the default 50
  // successes stay under EJECT_FAILURE_RATE.
  for (let i = 0; i < n; i++)
    for (const model of Object.keys(models)) feed(outcome(id, "success", t++, { model, ttftMs: spec.ttftMs ?? 100 }));
  for (let i = 0; i < (spec.failures ?? 0); i++) {
    feed(outcome(id, "error", t++));
    for (let k = 0; k < 5; k++) feed(outcome(id, "success", t++, { ttftMs: spec.ttftMs ?? 100 }));
  }
  if (spec.ejected) for (let i = 0; i < EJECT_AFTER_CONSECUTIVE; i++) feed(outcome(id, "error", NOW - 1));
  return {
    id,
    origin: `https://${id}.example`,
    transport: "direct",
    declaredCapacity: capacity,
    othersInFlight: 0,
    contextLengths: new Map(),
    responsesApi: new Set(),
    models: new Map(Object.entries(models)),
    state,
    probe: spec.probe ?? null,
  };
}

function pool(table: RoutingTable, model = "m"): ModelPool {
  const p = table.pools.get(model);
  if (!p) throw new Error(`no pool for ${model}`);
  return p;
}

function ids(nodes: readonly RouteNode[]): string[] {
  return nodes.map((n) => n.id);
}

describe("buildTable", () => {
  it("indexes nodes by id and by the models they serve", () => {
    const a = routeNode("a", { models: { x: null, y: null } });
    const b = routeNode("b", { models: { y: null } });
    const table = buildTable([a, b], NOW);
    expect(table.builtAt).toBe(NOW);
    expect(table.nodes.get("a")).toBe(a);
    expect(table.nodes.get("b")).toBe(b);
    expect([...table.pools.keys()].sort()).toEqual(["x", "y"]);
    expect(ids(pool(table, "x").nodes)).toEqual(["a"]);
    expect(ids(pool(table, "y").nodes)).toEqual(["a", "b"]);
    expect(table.pools.get("z")).toBeUndefined();
  });

  it("is empty for no nodes", () => {
    const table = buildTable([], NOW);
    expect(table.nodes.size).toBe(0);
    expect(table.pools.size).toBe(0);
    expect(table.ejected).toBe(0);
  });

  it("counts the nodes ejected now", () => {
    const table = buildTable(
      [routeNode("a", { ejected: true }), routeNode("b"), routeNode("c", { ejected: true })],
      NOW,
    );
    expect(table.ejected).toBe(2);
  });

  it("does not count an ejection that has ended", () => {
    const a = routeNode("a", { ejected: true });
    expect(buildTable([a], a.state.outlier.ejectedUntil).ejected).toBe(0);
  });

  it("lists the nodes still being explored, per model", () => {
    const known = routeNode("known", { ttftMs: 100, models: { x: null } });
    const fresh = routeNode("fresh", { models: { x: null, y: null } });
    const table = buildTable([known, fresh], NOW);
    expect(ids(pool(table, "x").explore)).toEqual(["fresh"]);
    expect(ids(pool(table, "y").explore)).toEqual(["fresh"]);
  });

  it("keeps model ids that are Object.prototype keys apart", () => {
    const a: RouteNode = {
      ...routeNode("a"),
      models: new Map([
        ["__proto__", null],
        ["constructor", null],
      ]),
    };
    const table = buildTable([a], NOW);
    expect(ids(pool(table, "__proto__").nodes)).toEqual(["a"]);
    expect(ids(pool(table, "constructor").nodes)).toEqual(["a"]);
    expect(table.pools.get("toString")).toBeUndefined();
  });
});

describe("samplingWeight", () => {
  it("is zero while the node is ejected, and back after", () => {
    const a = routeNode("a", { ttftMs: 100, ejected: true });
    expect(samplingWeight(a, "m", 0, NOW)).toBe(0);
    expect(samplingWeight(a, "m", 0, a.state.outlier.ejectedUntil)).toBeGreaterThan(0);
  });

  it("follows the free slots: zero when full, so draws land on nodes that can take the request", () => {
    const a = routeNode("a", { ttftMs: 100, capacity: 4 });
    const idle = samplingWeight(a, "m", 0, NOW);
    expect(samplingWeight(a, "m", 1, NOW)).toBeCloseTo(0.75 * idle, 9);
    expect(samplingWeight(a, "m", 4, NOW)).toBe(0);
    expect(samplingWeight(a, "m", 9, NOW)).toBe(0);
  });

  it("grows with capacity", () => {
    const small = samplingWeight(routeNode("s", { ttftMs: 100, capacity: 2 }), "m", 0, NOW);
    const big = samplingWeight(routeNode("b", { ttftMs: 100, capacity: 8 }), "m", 0, NOW);
    expect(big / small).toBeCloseTo(4, 6);
  });

  it(`falls with latency to the power ${LATENCY_POWER}`, () => {
    const f = routeNode("f", { ttftMs: 100 });
    const s = routeNode("s", { ttftMs: 200 });
    const fast = samplingWeight(f, "m", 0, NOW);
    const slow = samplingWeight(s, "m", 0, NOW);
    expect(fast / slow).toBeCloseTo((expectedTtft(s, "m", NOW) / expectedTtft(f, "m", NOW)) ** LATENCY_POWER, 9);
    expect(fast / slow).toBeGreaterThan(3.5);
  });

  it(`grows with trust to the power ${TRUST_POWER}`, () => {
    const r = routeNode("r", { ttftMs: 100 });
    const f = routeNode("f", { ttftMs: 100, failures: 10 });
    const reliable = samplingWeight(r, "m", 0, NOW);
    const flaky = samplingWeight(f, "m", 0, NOW);
    expect(flaky).toBeLessThan(reliable);
    expect(flaky).toBeGreaterThan(0);
    // Their latencies differ by a hair (measured at slightly different times, relaxed toward the prior since).
    const latency = (expectedTtft(r, "m", NOW) / expectedTtft(f, "m", NOW)) ** LATENCY_POWER;
    expect(flaky / reliable).toBeCloseTo((trustOf(f, NOW) / trustOf(r, NOW)) ** TRUST_POWER * latency, 9);
    expect(flaky / reliable).toBeLessThan(0.3);
  });

  it("is finite for a node measured at 0 ms", () => {
    expect(Number.isFinite(samplingWeight(routeNode("z", { ttftMs: 0 }), "m", 0, NOW - 1))).toBe(true);
  });

  it(
    "gives a node unproven for the model no weight: it is never a weighted candidate (pick.ts explores it " +
      "instead)",
    () => {
      const fresh = routeNode("n", { capacity: 64 });
      expect(samplingWeight(fresh, "m", 0, NOW)).toBe(0);
      const proven = routeNode("p", { ttftMs: 100, successes: EXPLORE_BELOW_SAMPLES, capacity: 64 });
      expect(samplingWeight(proven, "m", 0, NOW)).toBeGreaterThan(0);
    },
  );
});

describe("noteLoad", () => {
  it("stops drawing a node the moment it is full, and draws it again once a slot frees", () => {
    const table = buildTable(
      [routeNode("a", { ttftMs: 50, capacity: 2 }), routeNode("b", { ttftMs: 500, capacity: 2 })],
      NOW,
    );
    const m = pool(table, "m");
    const draws = (n: number) => {
      const counts = new Map<string, number>();
      const random = mulberry32(9);
      for (let i = 0; i < n; i++) {
        const id = drawWeighted(m, random)?.id ?? "none";
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    };
    expect(draws(1_000).get("a") ?? 0).toBeGreaterThan(900);
    noteLoad(table, "a", 2, NOW);
    expect(draws(1_000).get("a")).toBeUndefined();
    noteLoad(table, "a", 1, NOW);
    expect(draws(1_000).get("a") ?? 0).toBeGreaterThan(800);
    noteLoad(table, "nobody", 1, NOW);
  });

  it("builds with the load the caller knows, and an outcome reweighs the node", () => {
    const nodes = [routeNode("a", { ttftMs: 50, capacity: 2 }), routeNode("b", { ttftMs: 500, capacity: 2 })];
    const table = buildTable(nodes, NOW, (node) => (node.id === "a" ? 2 : 0));
    const m = pool(table, "m");
    expect(drawWeighted(m, () => 0)?.id).toBe("b");
    expect(drawWeighted(m, () => 0.999)?.id).toBe("b");
    for (let i = 0; i < EJECT_AFTER_CONSECUTIVE; i++)
      observeInTable(table, {
        nodeId: "b",
        model: "m",
        kind: "error",
        at: NOW,
        ttftMs: null,
        tokens: null,
        streamMs: null,
        inFlight: null,
      });
    expect(drawWeighted(m, Math.random)).toBeNull();
  });
});

describe("nodeCost", () => {
  const node = routeNode("a", { ttftMs: 100, capacity: 4 });

  it("is the expected latency for an idle, reliable node, whatever its capacity", () => {
    expect(nodeCost(node, "m", 0, NOW)).toBeCloseTo(expectedTtft(node, "m", NOW), 9);
    expect(nodeCost(routeNode("b", { ttftMs: 100, capacity: 64 }), "m", 0, NOW)).toBeCloseTo(
      nodeCost(node, "m", 0, NOW),
      9,
    );
  });

  it("grows with the share of slots in use: a full node costs twice an idle one", () => {
    const idle = nodeCost(node, "m", 0, NOW);
    expect(nodeCost(node, "m", 1, NOW)).toBeCloseTo(1.25 * idle, 9);
    expect(nodeCost(node, "m", 4, NOW)).toBeCloseTo(2 * idle, 9);
  });

  it("grows more slowly with load on a node with more slots", () => {
    const big = routeNode("b", { ttftMs: 100, capacity: 16 });
    expect(nodeCost(big, "m", 4, NOW)).toBeCloseTo(nodeCost(node, "m", 1, NOW), 9);
    expect(nodeCost(big, "m", 3, NOW)).toBeLessThan(nodeCost(node, "m", 3, NOW));
  });

  it(`is higher for a slower node, and for a less trusted one by trust^${TRUST_POWER}`, () => {
    expect(nodeCost(routeNode("s", { ttftMs: 300, capacity: 4 }), "m", 0, NOW)).toBeGreaterThan(
      nodeCost(node, "m", 0, NOW),
    );
    const flaky = routeNode("f", { ttftMs: 100, capacity: 4, failures: 8 });
    expect(nodeCost(flaky, "m", 0, NOW)).toBeCloseTo(
      expectedTtft(flaky, "m", NOW) / trustOf(flaky, NOW) ** TRUST_POWER,
      9,
    );
    expect(nodeCost(flaky, "m", 0, NOW)).toBeGreaterThan(nodeCost(node, "m", 0, NOW));
  });

  it("counts an unproven node's load against its two slots", () => {
    const fresh = routeNode("n", { capacity: 64 });
    expect(nodeCost(fresh, "m", 1, NOW)).toBeCloseTo(1.5 * nodeCost(fresh, "m", 0, NOW), 9);
  });

  it("is finite for a node with the worst record", () => {
    const awful = routeNode("w", { ttftMs: 100, capacity: 4 });
    awful.state = { ...awful.state, reputation: { successes: 0, failures: 1e6, at: NOW } };
    expect(Number.isFinite(nodeCost(awful, "m", 3, NOW))).toBe(true);
  });
});

describe("drawWeighted", () => {
  it("is null when every weight is zero or there are no nodes", () => {
    const allOut = buildTable([routeNode("a", { ejected: true }), routeNode("b", { ejected: true })], NOW);
    expect(drawWeighted(pool(allOut), Math.random)).toBeNull();
    const empty: ModelPool = {
      model: "m",
      nodes: [],
      sampler: new WeightedSampler([]),
      explore: [],
      unproven: [],
      priceReference: 0,
    };
    expect(drawWeighted(empty, Math.random)).toBeNull();
  });

  it("never draws a zero-weight node, at either end of the range", () => {
    const table = buildTable(
      [routeNode("out1", { ejected: true }), routeNode("in", { ttftMs: 100 }), routeNode("out2", { ejected: true })],
      NOW,
    );
    for (const r of [0, 1e-12, 0.5, 1 - 1e-12]) expect(drawWeighted(pool(table), () => r)?.id).toBe("in");
  });

  it("draws each node in proportion to its weight", () => {
    const nodes = [
      routeNode("c1", { ttftMs: 100, capacity: 1 }),
      routeNode("c2", { ttftMs: 100, capacity: 2 }),
      routeNode("c3", { ttftMs: 100, capacity: 3 }),
      routeNode("out", { ttftMs: 100, capacity: 8, ejected: true }),
      routeNode("c4", { ttftMs: 100, capacity: 4 }),
    ];
    const p = pool(buildTable(nodes, NOW));
    const random = mulberry32(1);
    const counts = new Map<string, number>();
    const draws = 100_000;
    for (let i = 0; i < draws; i++) {
      const id = drawWeighted(p, random)?.id ?? "none";
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.get("out")).toBeUndefined();
    expect(counts.get("none")).toBeUndefined();
    for (const [id, share] of [
      ["c1", 0.1],
      ["c2", 0.2],
      ["c3", 0.3],
      ["c4", 0.4],
    ] as const) {
      expect((counts.get(id) ?? 0) / draws, id).toBeCloseTo(share, 2);
    }
  });
});

describe("observeInTable", () => {
  it("applies the outcome to the node at once", () => {
    const table = buildTable([routeNode("a")], NOW);
    observeInTable(table, outcome("a", "success", NOW, { ttftMs: 321 }));
    const a = table.nodes.get("a");
    expect(a && perfOf(a.state, "m").ttft?.ms).toBe(321);
  });

  it("ignores an outcome for a node it does not know", () => {
    const table = buildTable([routeNode("a")], NOW);
    const before = table.nodes.get("a")?.state;
    observeInTable(table, outcome("ghost", "error", NOW));
    expect(table.nodes.get("a")?.state).toBe(before);
    expect(table.nodes.size).toBe(1);
  });

  it("learns capacity from a 429 against the node's declared capacity, and reweighs it", () => {
    const table = buildTable([routeNode("a", { ttftMs: 100, capacity: 12 })], NOW);
    const a = table.nodes.get("a");
    if (!a) throw new Error("no node a");
    const before = pool(table).sampler.weight(0);
    observeInTable(table, outcome("a", "busy", NOW, { inFlight: 5 }));
    // 5 others open, but one 429 halves the declared 12 at most: 6 (against the default 8 it would have been 5).
    expect(capacityOf(a, "m", NOW)).toBe(6);
    expect(pool(table).sampler.weight(0)).toBeCloseTo(before / 2, 12);
  });

  /** Fails every node `EJECT_AFTER_CONSECUTIVE` times in a row; returns how many are ejected. */
  function failAll(n: number, alreadyEjected = 0): number {
    const nodes = Array.from({ length: n }, (_, i) => routeNode(`n${i}`, { ttftMs: 100, ejected: i < alreadyEjected }));
    const table = buildTable(nodes, NOW);
    for (const node of nodes)
      for (let k = 0; k < EJECT_AFTER_CONSECUTIVE; k++) observeInTable(table, outcome(node.id, "error", NOW + k));
    const ejected = nodes.filter((node) => isEjected(node.state.outlier, NOW + EJECT_AFTER_CONSECUTIVE)).length;
    expect(table.ejected).toBe(ejected);
    return ejected;
  }

  it("ejects a failing node and counts it", () => {
    expect(failAll(1)).toBe(1);
  });

  it("never ejects more than the cap when every node fails together", () => {
    for (const n of [2, 3, 5, 10, 30]) expect(failAll(n), `${n} nodes`).toBe(maxEjected(n));
    expect(failAll(10)).toBe(3);
  });

  it("always lets one node be ejected", () => {
    expect(failAll(2)).toBe(1);
  });

  it("counts nodes already ejected when the table was built against the cap", () => {
    expect(failAll(10, 3)).toBe(3);
    expect(failAll(10, 2)).toBe(3);
  });
});
