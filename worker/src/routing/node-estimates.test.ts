import type { Price } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { CAPACITY_RECOVERY_STEP_MS } from "./capacity.js";
import { LATENCY_PRIOR_MS } from "./latency.js";
import {
  capacityOf,
  EXPLORE_BELOW_SAMPLES,
  expectedThroughput,
  expectedTtft,
  latencyPrior,
  needsExploring,
  PROBATION_SLOTS,
  PROBE_PRIOR_EXTRA_MS,
  STALE_LATENCY_TAU_MS,
  trustOf,
  UNPROVEN_SLOTS,
  type ProbeView,
  type RouteNode,
} from "./node-estimates.js";
import { newNodeState, observe, type NodeState } from "./node-state.js";
import type { Outcome, OutcomeKind } from "./outcome.js";
import { EJECT_AFTER_CONSECUTIVE, isEjected } from "./outlier.js";
import { TRUST_FLOOR } from "./reputation.js";

function routeNode(
  opts: { state?: NodeState; probe?: ProbeView | null; capacity?: number; models?: Record<string, Price | null> } = {},
): RouteNode {
  return {
    id: "n",
    origin: "https://n.example",
    transport: "direct",
    declaredCapacity: opts.capacity ?? 8,
    othersInFlight: 0,
    contextLengths: new Map(),
    responsesApi: new Set(),
    models: new Map(Object.entries(opts.models ?? { m: null })),
    state: opts.state ?? newNodeState(0),
    probe: opts.probe ?? null,
  };
}

function outcome(kind: OutcomeKind, at: number, extra: Partial<Outcome> = {}): Outcome {
  const ok = kind === "success";
  return {
    nodeId: "n",
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

function fed(outcomes: readonly Outcome[], capacity = 8): NodeState {
  return outcomes.reduce((s, o) => observe(s, o, { declaredCapacity: capacity, mayEject: true }), newNodeState(0));
}

const successes = (n: number, extra: Partial<Outcome> = {}, from = 0): Outcome[] =>
  Array.from({ length: n }, (_, i) => outcome("success", from + i, extra));

describe("latency prior", () => {
  it("is the default first-token time without a probe", () => {
    expect(latencyPrior(routeNode())).toBe(LATENCY_PRIOR_MS);
  });

  it("is the probe's round trip plus the default first-token time", () => {
    expect(PROBE_PRIOR_EXTRA_MS).toBe(LATENCY_PRIOR_MS);
    expect(latencyPrior(routeNode({ probe: { reachable: true, rttMs: 40, at: 0 } }))).toBe(40 + LATENCY_PRIOR_MS);
  });

  it("is the default when a reachable probe has no round trip", () => {
    expect(latencyPrior(routeNode({ probe: { reachable: true, rttMs: null, at: 0 } }))).toBe(LATENCY_PRIOR_MS);
  });

  it("grows with the probe's round trip", () => {
    const near = latencyPrior(routeNode({ probe: { reachable: true, rttMs: 5, at: 0 } }));
    const far = latencyPrior(routeNode({ probe: { reachable: true, rttMs: 250, at: 0 } }));
    expect(far - near).toBe(245);
  });
});

describe("expected time to first token", () => {
  it("is the prior until measured", () => {
    const probe: ProbeView = { reachable: true, rttMs: 20, at: 0 };
    expect(expectedTtft(routeNode({ probe }), "m", 1_000)).toBe(20 + PROBE_PRIOR_EXTRA_MS);
  });

  it("is the measurement while it is fresh", () => {
    const node = routeNode({ state: fed(successes(1, { ttftMs: 400 })) });
    expect(expectedTtft(node, "m", 0)).toBe(400);
  });

  it("is per model", () => {
    const node = routeNode({ state: fed(successes(1, { ttftMs: 400 })), models: { m: null, other: null } });
    expect(expectedTtft(node, "other", 0)).toBe(LATENCY_PRIOR_MS);
  });

  it("relaxes a stale measurement toward the probe prior with time constant STALE_LATENCY_TAU_MS", () => {
    const probe: ProbeView = { reachable: true, rttMs: 30, at: 0 };
    const prior = 30 + PROBE_PRIOR_EXTRA_MS;
    const node = routeNode({ state: fed(successes(1, { ttftMs: 2_000 })), probe });
    expect(expectedTtft(node, "m", STALE_LATENCY_TAU_MS)).toBeCloseTo(prior + (2_000 - prior) * Math.exp(-1), 6);
    const samples = [0, 1_000, 10_000, 60_000, 300_000].map((t) => expectedTtft(node, "m", t));
    for (let i = 1; i < samples.length; i++) expect(samples[i]).toBeLessThan(samples[i - 1] ?? 0);
    expect(expectedTtft(node, "m", 20 * STALE_LATENCY_TAU_MS)).toBeCloseTo(prior, 3);
    // Slowly: a minute on, the slow measurement still counts for 90%.
    expect(expectedTtft(node, "m", 60_000)).toBeGreaterThan(prior + 0.85 * (2_000 - prior));
  });

  it("relaxes a slow timeout back toward the prior, so the node is tried again later", () => {
    const node = routeNode({
      state: fed([...successes(3, { ttftMs: 80 }), outcome("timeout", 3, { ttftMs: 30_000 })]),
    });
    expect(expectedTtft(node, "m", 3)).toBe(30_000);
    expect(expectedTtft(node, "m", 3 + 10 * STALE_LATENCY_TAU_MS)).toBeLessThan(LATENCY_PRIOR_MS + 5);
  });

  it("relaxes a measurement faster than the prior upward, toward it", () => {
    const probe: ProbeView = { reachable: true, rttMs: 100, at: 0 };
    const node = routeNode({ state: fed(successes(1, { ttftMs: 10 })), probe });
    expect(expectedTtft(node, "m", 0)).toBe(10);
    expect(expectedTtft(node, "m", STALE_LATENCY_TAU_MS)).toBeGreaterThan(10);
    expect(expectedTtft(node, "m", STALE_LATENCY_TAU_MS)).toBeLessThan(100 + PROBE_PRIOR_EXTRA_MS);
  });

  it("does not extrapolate for a time before the measurement", () => {
    const node = routeNode({ state: fed(successes(1, { ttftMs: 400 }, 1_000)) });
    expect(expectedTtft(node, "m", 0)).toBe(400);
  });
});

describe("expected throughput", () => {
  it("is unknown until measured, then the measurement, per model", () => {
    expect(expectedThroughput(routeNode(), "m")).toBeNull();
    const node = routeNode({
      state: fed(successes(1, { tokens: 300, streamMs: 3_000 })),
      models: { m: null, other: null },
    });
    expect(expectedThroughput(node, "m")).toBe(100);
    expect(expectedThroughput(node, "other")).toBeNull();
  });

  it("stays unknown after answers too short to measure", () => {
    expect(expectedThroughput(routeNode({ state: fed(successes(5, { tokens: 1, streamMs: 10 })) }), "m")).toBeNull();
  });
});

describe("capacity", () => {
  it("is the declared capacity for a proven node, lowered by 429s and recovering", () => {
    const proven = fed(successes(EXPLORE_BELOW_SAMPLES), 6);
    expect(capacityOf(routeNode({ capacity: 6, state: proven }), "m", 0)).toBe(6);
    const node = routeNode({
      capacity: 6,
      state: fed([...successes(EXPLORE_BELOW_SAMPLES), outcome("busy", 10, { inFlight: 3 })], 6),
    });
    expect(capacityOf(node, "m", 10)).toBe(3);
    expect(capacityOf(node, "m", 10 + 2 * CAPACITY_RECOVERY_STEP_MS)).toBe(5);
    expect(capacityOf(node, "m", 10 + 100 * CAPACITY_RECOVERY_STEP_MS)).toBe(6);
  });

  it(`holds an unproven node to ${UNPROVEN_SLOTS} slots, whatever it declares`, () => {
    expect(capacityOf(routeNode({ capacity: 64 }), "m", 0)).toBe(UNPROVEN_SLOTS);
    expect(capacityOf(routeNode({ capacity: 64, state: fed(successes(1), 64) }), "m", 0)).toBe(UNPROVEN_SLOTS);
    expect(capacityOf(routeNode({ capacity: 64, state: fed(successes(EXPLORE_BELOW_SAMPLES), 64) }), "m", 0)).toBe(64);
  });

  it("never gives an unproven node more than it declares or a 429 allows", () => {
    expect(capacityOf(routeNode({ capacity: 1 }), "m", 0)).toBe(1);
    // A 429 halves 3 declared slots to 1, below the unproven 2.
    expect(capacityOf(routeNode({ capacity: 3, state: fed([outcome("busy", 0, { inFlight: 0 })], 3) }), "m", 0)).toBe(
      1,
    );
    // One 429 on 64 slots leaves 32, still above the unproven 2; repeated ones halve it down to 1.
    const busy = (n: number): Outcome[] => Array.from({ length: n }, (_, i) => outcome("busy", i, { inFlight: 0 }));
    expect(capacityOf(routeNode({ capacity: 64, state: fed(busy(1), 64) }), "m", 0)).toBe(UNPROVEN_SLOTS);
    expect(capacityOf(routeNode({ capacity: 64, state: fed(busy(6), 64) }), "m", 5)).toBe(1);
  });

  it("holds a node to the unproven slots on a model it has not answered yet, whatever its record on others", () => {
    // Latency and correctness are per model (another model may be far bigger, or broken on this node).
    const state = fed(successes(EXPLORE_BELOW_SAMPLES, { model: "a" }), 16);
    const node = routeNode({ capacity: 16, state, models: { a: null, b: null } });
    expect(capacityOf(node, "a", 0)).toBe(16);
    expect(capacityOf(node, "b", 0)).toBe(UNPROVEN_SLOTS);
  });

  it(`is ${PROBATION_SLOTS} request on probation`, () => {
    const base = fed(successes(50));
    const node = routeNode({ capacity: 6, state: { ...base, outlier: { ...base.outlier, probation: true } } });
    expect(capacityOf(node, "m", 0)).toBe(PROBATION_SLOTS);
  });

  it("is one request for a node just back from ejection, before any outcome", () => {
    const failing = Array.from({ length: EJECT_AFTER_CONSECUTIVE }, (_, i) => outcome("error", i));
    const node = routeNode({ capacity: 6, state: fed([...successes(20, {}, -100), ...failing]) });
    const back = node.state.outlier.ejectedUntil;
    expect(isEjected(node.state.outlier, back - 1)).toBe(true);
    expect(capacityOf(node, "m", back)).toBe(PROBATION_SLOTS);
  });

  it("holds a new node that has only failed to the unproven slots", () => {
    const failed = routeNode({ capacity: 64, state: fed([outcome("malformed", 0)], 64) });
    expect(isEjected(failed.state.outlier, 0)).toBe(false);
    expect(capacityOf(failed, "m", 0)).toBeLessThanOrEqual(UNPROVEN_SLOTS);
  });
});

describe("trust", () => {
  it("is full without a record and while the node has not failed", () => {
    expect(trustOf(routeNode(), 0)).toBe(1);
    expect(trustOf(routeNode({ state: fed(successes(50)) }), 0)).toBe(1);
  });

  it("falls with failures, and a timeout costs more than an error", () => {
    const good = trustOf(routeNode({ state: fed(successes(20)) }), 0);
    const error = trustOf(routeNode({ state: fed([...successes(20), outcome("error", 20)]) }), 0);
    const timeout = trustOf(routeNode({ state: fed([...successes(20), outcome("timeout", 20)]) }), 0);
    expect(error).toBeLessThan(good);
    expect(timeout).toBeLessThan(error);
  });

  it("is at least the floor", () => {
    // (Fed outcomes stop counting once the node is ejected, so the record is set directly.)
    const base = fed([]);
    const awful = { ...base, reputation: { successes: 0, failures: 1e6, at: 0 } };
    expect(trustOf(routeNode({ state: awful }), 0)).toBe(TRUST_FLOOR);
  });
});

describe("exploration", () => {
  it("explores a new node", () => {
    expect(needsExploring(routeNode(), "m", 0)).toBe(true);
  });

  it(`keeps exploring a node with fewer than ${EXPLORE_BELOW_SAMPLES} answers, stops once it has them`, () => {
    expect(needsExploring(routeNode({ state: fed(successes(1)) }), "m", 0)).toBe(true);
    expect(needsExploring(routeNode({ state: fed(successes(EXPLORE_BELOW_SAMPLES)) }), "m", 0)).toBe(false);
  });

  it("stops exploring a node that failed, until its failure has faded", () => {
    const failed = routeNode({ state: fed([outcome("error", 0)]) });
    expect(needsExploring(failed, "m", 0)).toBe(false);
    // Half-life 10 min: after 20 min the failure weighs a quarter.
    expect(needsExploring(failed, "m", 20 * 60_000)).toBe(true);
  });

  it(`stops exploring once ${EXPLORE_BELOW_SAMPLES} answers are measured, though the record has faded`, () => {
    const measured = fed(successes(EXPLORE_BELOW_SAMPLES));
    const faded = { successes: 0.5, failures: 0, at: 0 };
    expect(needsExploring(routeNode({ state: { ...measured, reputation: faded } }), "m", 0)).toBe(false);
    const fewer = fed(successes(EXPLORE_BELOW_SAMPLES - 1));
    expect(needsExploring(routeNode({ state: { ...fewer, reputation: faded } }), "m", 0)).toBe(true);
  });

  it("explores a node with a record on another model for a model it is new to", () => {
    const node = routeNode({ state: fed(successes(10, { model: "a" })), models: { a: null, b: null } });
    expect(needsExploring(node, "a", 0)).toBe(false);
    expect(needsExploring(node, "b", 0)).toBe(true);
  });

  it("leaves a measured node on probation to its record, not to the exploration share", () => {
    const base = fed(successes(50));
    const node = routeNode({ state: { ...base, outlier: { ...base.outlier, probation: true } } });
    expect(needsExploring(node, "m", 0)).toBe(false);
  });
});
