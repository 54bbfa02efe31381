import { describe, expect, it } from "vitest";
import { NO_CONTROLS, pickNode } from "@meshgate/worker/routing";
import { formatRoutingBench, runRoutingBench, type RoutingSizeResult } from "./routing-bench.js";
import { benchMesh, BENCH_MODEL, seededRandom } from "./routing-mesh.js";

describe("routing decision bench", () => {
  it("times real decisions on each table size", () => {
    const results = runRoutingBench({ sizes: [100, 1_000], decisions: 500 });
    expect(results.map((r) => r.nodes)).toEqual([100, 1_000]);
    for (const r of results) {
      expect(r.meshgateUs.count).toBeGreaterThanOrEqual(500);
      expect(r.meshgateUs.p50).toBeGreaterThan(0);
      expect(r.baselineUs.p50).toBeGreaterThan(0);
    }
  });

  it("lays out a mesh where the router must skip full and ejected nodes", () => {
    const { table, loads } = benchMesh(1_000, 1, 0);
    const nodes = [...table.nodes.values()];
    expect(nodes.some((n) => (loads.get(n.id) ?? 0) >= n.declaredCapacity)).toBe(true);
    expect(nodes.some((n) => n.state.outlier.ejectedUntil > 0)).toBe(true);
    const random = seededRandom(3);
    for (let i = 0; i < 200; i++) {
      const r = pickNode(table, {
        model: BENCH_MODEL,
        controls: NO_CONTROLS(BENCH_MODEL),
        now: 0,
        random,
        load: (n) => loads.get(n.id) ?? 0,
        exclude: new Set(),
        attempt: 0,
      });
      if (r.kind !== "node") throw new Error(`no node picked: ${r.kind}`);
      expect(loads.get(r.node.id) ?? 0).toBeLessThan(r.node.declaredCapacity);
      expect(r.node.state.outlier.ejectedUntil).toBe(0);
    }
  });

  it("judges the 10,000-node p99 against the target", () => {
    const summary = (p99: number) => ({ count: 1, min: 0, mean: 0, p50: 0, p90: 0, p99, max: 0 });
    const at = (p99: number): RoutingSizeResult[] => [
      { nodes: 10_000, meshgateUs: summary(p99), baselineUs: summary(1), buildMs: 1 },
    ];
    expect(formatRoutingBench(at(12), "cmd")).toContain("met (12.00 µs)");
    expect(formatRoutingBench(at(80), "cmd")).toContain("MISSED");
    expect(formatRoutingBench(at(80), "cmd")).toContain("reproduce: cmd");
  });
});
