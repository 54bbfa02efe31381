import { observeInTable } from "@meshgate/worker/routing";
import { describe, expect, it } from "vitest";
import { FakeWorld } from "./fake-world.js";
import { lowestLatencyPolicy } from "./lowest-latency-policy.js";
import { randomPolicy, roundRobinPolicy } from "./naive-policies.js";
import { oraclePolicy } from "./oracle-policy.js";
import { MODEL, type Policy } from "./policy.js";

const none: ReadonlySet<string> = new Set();
const pick = (p: Policy, exclude: ReadonlySet<string> = none): string | null =>
  p.choose({ now: 0, isolate: 0, attempt: exclude.size, exclude })?.id ?? null;

describe("oracle", () => {
  const world = (): FakeWorld =>
    new FakeWorld([
      { latencyMs: 300 },
      { latencyMs: 10, behaviour: { kind: "fast_error" } },
      { latencyMs: 100, capacity: 2 },
      { latencyMs: 20, behaviour: { kind: "flaky", failShare: 0.2 } },
      { latencyMs: 200 },
    ]);

  it("sends to the fastest honest node with a free slot, never to a bad one", () => {
    const w = world();
    const oracle = oraclePolicy(w);
    expect(pick(oracle)).toBe("n2");
    w.slots[2] = 1;
    oracle.onNodeChanged?.(2);
    expect(pick(oracle)).toBe("n2");
    w.slots[2] = 2;
    oracle.onNodeChanged?.(2);
    expect(pick(oracle)).toBe("n4");
  });

  it("skips nodes already tried and nodes gone, and has none when every honest node is out", () => {
    const w = world();
    const oracle = oraclePolicy(w);
    expect(pick(oracle, new Set(["n2"]))).toBe("n4");
    expect(pick(oracle)).toBe("n2");
    w.gone.add(4);
    oracle.onNodeChanged?.(4);
    expect(pick(oracle, new Set(["n2"]))).toBe("n0");
    expect(pick(oracle, new Set(["n2", "n0"]))).toBeNull();
  });
});

describe("random", () => {
  it("draws every listed node about equally, bad or busy alike, and skips the ones tried", () => {
    const w = new FakeWorld([
      { latencyMs: 10 },
      { latencyMs: 1000, behaviour: { kind: "stall" } },
      { latencyMs: 50 },
      { latencyMs: 50 },
    ]);
    w.slots[0] = 1;
    const policy = randomPolicy(w);
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const id = pick(policy) ?? "none";
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const id of ["n0", "n1", "n2", "n3"]) expect(counts.get(id) ?? 0).toBeGreaterThan(850);
    for (let i = 0; i < 100; i++) expect(pick(policy, new Set(["n0", "n1"]))).toMatch(/^n[23]$/);
  });
});

describe("round-robin", () => {
  it("cycles through the listed nodes in order and steps over the ones tried", () => {
    const w = new FakeWorld([{ latencyMs: 10 }, { latencyMs: 20 }, { latencyMs: 30 }]);
    const policy = roundRobinPolicy(w);
    expect([pick(policy), pick(policy), pick(policy), pick(policy)]).toEqual(["n1", "n2", "n0", "n1"]);
    expect(pick(policy, new Set(["n2"]))).toBe("n0");
    expect(pick(policy, new Set(["n0", "n1", "n2"]))).toBeNull();
  });
});

describe("lowest-latency", () => {
  it("takes the node with the lowest expected TTFT, whatever its load, and follows the estimates", () => {
    const w = new FakeWorld([{ latencyMs: 10 }, { latencyMs: 20 }, { latencyMs: 30 }]);
    const policy = lowestLatencyPolicy(w);
    const sample = (index: number, ttftMs: number): void => {
      observeInTable(w.table, {
        nodeId: `n${index}`,
        model: MODEL,
        kind: "success",
        at: 0,
        ttftMs,
        tokens: 10,
        streamMs: 100,
        inFlight: 0,
      });
      policy.onObserved?.(index, 0);
    };
    policy.onTable?.(w.table, 0);
    sample(0, 300);
    sample(1, 40);
    sample(2, 80);
    w.slots[1] = 99;
    expect(pick(policy)).toBe("n1");
    expect(pick(policy, new Set(["n1"]))).toBe("n2");
    sample(1, 500);
    expect(pick(policy)).toBe("n2");
    expect(pick(policy, new Set(["n0", "n1", "n2"]))).toBeNull();
  });
});
