import { describe, expect, it } from "vitest";
import { simulate, type SimulateOptions } from "./simulate.js";
import type { PolicyMetrics } from "./summary.js";

const SMALL: SimulateOptions = {
  seed: 3,
  nodes: 150,
  seconds: 20,
  load: 0.4,
  rate: null,
  warmup: 0.2,
  policies: ["meshgate", "random", "round-robin", "lowest-latency"],
  isolates: 1,
  cells: null,
  snapshotTtlMs: 2_000,
  releaseDelayMs: 20,
  cellRttMs: 5,
};

/** Everything but what the machine's speed decides. */
function deterministic(m: PolicyMetrics): Omit<PolicyMetrics, "decisionUs" | "tableBuildMs" | "wallSeconds"> {
  const { decisionUs: _d, tableBuildMs: _t, wallSeconds: _w, ...rest } = m;
  return rest;
}

describe("simulate", () => {
  it("gives identical metrics for the same seed, and other metrics for another", () => {
    const a = simulate(SMALL);
    const b = simulate(SMALL);
    expect(a.metrics.map(deterministic)).toEqual(b.metrics.map(deterministic));
    const c = simulate({ ...SMALL, seed: 4, policies: ["random"] });
    expect(c.metrics[1]?.latencyMs).not.toEqual(a.metrics[2]?.latencyMs);
  }, 30_000);

  it("runs every policy on the same requests; the oracle answers nearly all with no regret", () => {
    const { metrics, requests } = simulate(SMALL);
    expect(metrics.map((m) => m.policy)).toEqual(["oracle", "meshgate", "random", "round-robin", "lowest-latency"]);
    expect(requests).toBeGreaterThan(1000);
    const [oracle, ...others] = metrics;
    expect(oracle?.regret.p50).toBe(0);
    expect(oracle?.successRate).toBeGreaterThan(0.99);
    expect(oracle?.badAttemptShare).toBe(0);
    expect(oracle?.overCapacity).toBe(0);
    for (const m of others) expect(m.requests).toBe(oracle?.requests);
  }, 30_000);
});
