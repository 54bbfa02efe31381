import { cellOf, type Outcome, type RouteNode } from "@meshgate/worker/routing";
import { describe, expect, it } from "vitest";
import { cellsPolicy, type CellsCounters } from "./cells-policy.js";
import { FakeWorld } from "./fake-world.js";
import { MODEL, type Deployment, type Policy } from "./policy.js";
import { simulate, type SimulateOptions } from "./simulate.js";

const DEPLOYMENT: Deployment = { isolates: 2, cells: 2, snapshotTtlMs: 2_000, releaseDelayMs: 20, cellRttMs: 5 };

/** Two one-slot nodes, one in each of two cells (by cellOf), listed at 0; `skip`: random numbers drawn beforehand. */
function twoCells(skip = 0): { world: FakeWorld; policy: Policy; ids: string[] } {
  const world = new FakeWorld(Array.from({ length: 12 }, () => ({ latencyMs: 100, capacity: 1 })));
  for (let i = 0; i < skip; i++) world.random();
  // The first node of each cell: cellOf spreads ids, so the first dozen hold both.
  const picked = [0, 1].map((cell) => world.mesh.find((n) => cellOf(n.id, 2) === cell));
  const routes = picked.map((n) => (n ? world.route(n.index) : null)).filter((r): r is RouteNode => r !== null);
  expect(routes).toHaveLength(2);
  const policy = cellsPolicy(world, DEPLOYMENT);
  policy.onListing?.(routes, 0);
  return { world, policy, ids: routes.map((r) => r.id) };
}

const ask = (policy: Policy, now: number, isolate = 0): { id: string; waitMs?: number } | null =>
  policy.choose({ now, isolate, attempt: 0, exclude: new Set() });

function success(nodeId: string, at: number): Outcome {
  return { nodeId, model: MODEL, kind: "success", at, ttftMs: 100, tokens: 10, streamMs: 100, inFlight: 0 };
}

describe("cells policy", () => {
  it("sends the request to another cell when the one asked is full, each cell asked costing a round trip", () => {
    let askedFullFirst = 0;
    for (let trial = 0; trial < 20; trial++) {
      const { policy, ids } = twoCells(trial);
      const first = ask(policy, 0, 0);
      // Another isolate: it has not heard of the first one's lease, so the full cell still looks free to it.
      const second = ask(policy, 0, 1);
      expect(first?.waitMs).toBe(DEPLOYMENT.cellRttMs);
      expect(second?.id).toBe(ids.find((id) => id !== first?.id));
      expect([DEPLOYMENT.cellRttMs, 2 * DEPLOYMENT.cellRttMs]).toContain(second?.waitMs);
      if (second?.waitMs === 2 * DEPLOYMENT.cellRttMs) askedFullFirst++;
      // Both full: every cell is tried once, then no capacity.
      expect(ask(policy, 0, 1)).toBeNull();
      expect((policy.counters as CellsCounters).noCapacity).toBe(1);
    }
    expect(askedFullFirst).toBeGreaterThan(3);
    expect(askedFullFirst).toBeLessThan(17);
  });

  it("asks the cell with room directly once the isolate knows the other is full", () => {
    for (let trial = 0; trial < 20; trial++) {
      const { policy } = twoCells(trial);
      ask(policy, 0, 0);
      // Its own lease took the other cell's only slot: it knows without asking.
      expect(ask(policy, 0, 0)?.waitMs).toBe(DEPLOYMENT.cellRttMs);
    }
  });

  it("keeps the slot leased until the release reaches the cell", () => {
    const { world, policy } = twoCells();
    const a = ask(policy, 0);
    const b = ask(policy, 0);
    expect(ask(policy, 0)).toBeNull();
    const index = world.indexOf(a?.id ?? "");
    world.advance(100);
    policy.onAttemptEnd?.(success(a?.id ?? "", 100), index, 100);
    world.advance(100 + DEPLOYMENT.releaseDelayMs - 1);
    expect(ask(policy, world.now)).toBeNull();
    world.advance(100 + DEPLOYMENT.releaseDelayMs);
    expect(ask(policy, world.now)?.id).toBe(a?.id);
    expect(b?.id).not.toBe(a?.id);
  });
});

const SMALL: SimulateOptions = {
  seed: 5,
  nodes: 400,
  seconds: 30,
  load: 0.4,
  rate: null,
  warmup: 0.2,
  policies: ["meshgate", "meshgate-shared"],
  isolates: 1,
  cells: 3,
  snapshotTtlMs: 2_000,
  releaseDelayMs: 20,
  cellRttMs: 5,
};

describe("cells in the simulation", () => {
  it("never dispatches over a node's true capacity with many isolates, and answers as well as with one", () => {
    const one = simulate(SMALL).metrics.find((m) => m.policy === "meshgate");
    const many = simulate({ ...SMALL, isolates: 64 }).metrics;
    const cells = many.find((m) => m.policy === "meshgate");
    const shared = many.find((m) => m.policy === "meshgate-shared");
    expect(one?.overCapacity).toBe(0);
    expect(cells?.overCapacity).toBe(0);
    // The shared table, with heartbeat load, over-commits the fast nodes: what cells are for.
    expect(shared?.overCapacity).toBeGreaterThan(100);
    expect(cells?.successRate).toBeGreaterThan((one?.successRate ?? 1) - 0.002);
    expect(cells?.successRate).toBeGreaterThan((shared?.successRate ?? 1) + 0.01);
    expect(cells?.regret.p50).toBeLessThan(0.15);
    expect(cells?.counters["noCapacity"]).toBe(0);
  }, 60_000);
});
