import { describe, expect, it } from "vitest";
import { CAPACITY_RECOVERY_STEP_MS, effectiveCapacity } from "./capacity.js";
import { newNodeState, observe, observeProbe, perfOf, type NodeState, type ObserveContext } from "./node-state.js";
import { FAILURE_WEIGHT, isFailure, isSevere, type Outcome, type OutcomeKind } from "./outcome.js";
import { BASE_EJECTION_MS, EJECT_AFTER_CONSECUTIVE, isEjected } from "./outlier.js";
import { ORDINARY_PROMPT_TOKENS } from "./prefill.js";
import { EJECT_AFTER_TIMEOUT_CLIENTS, TIMEOUT_EVIDENCE_WINDOW_MS } from "./timeout-evidence.js";
import { trust } from "./reputation.js";

const CTX: ObserveContext = { declaredCapacity: 8, mayEject: true };

function outcome(kind: OutcomeKind, at: number, extra: Partial<Outcome> = {}): Outcome {
  const ok = kind === "success";
  return {
    nodeId: "n",
    model: "m",
    kind,
    at,
    ttftMs: ok ? 100 : null,
    tokens: ok ? 50 : null,
    streamMs: ok ? 1_000 : null,
    inFlight: null,
    ...extra,
  };
}

function apply(state: NodeState, outcomes: readonly Outcome[], ctx: ObserveContext = CTX): NodeState {
  return outcomes.reduce((s, o) => observe(s, o, ctx), state);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe("outcome kinds", () => {
  it("counts every kind but success and busy as a failure, the ones that cost the client most double", () => {
    const kinds: OutcomeKind[] = [
      "success",
      "busy",
      "error",
      "timeout",
      "stalled",
      "sse_error",
      "malformed",
      "unmetered",
    ];
    expect(kinds.filter(isFailure)).toEqual(["error", "timeout", "stalled", "sse_error", "malformed", "unmetered"]);
    expect(FAILURE_WEIGHT).toEqual({ error: 1, sse_error: 1, timeout: 2, stalled: 2, malformed: 2, unmetered: 2 });
    // A timeout is not: a client can cause one on purpose (timeout-evidence.ts).
    expect(kinds.filter(isSevere)).toEqual(["stalled"]);
  });
});

describe("a new node state", () => {
  it("has no record, no ejection, no learned capacity and no measurements", () => {
    const s = newNodeState(5);
    expect(s.reputation).toEqual({ successes: 0, failures: 0, at: 5 });
    expect(isEjected(s.outlier, 5)).toBe(false);
    expect(s.learnedCapacity).toBeNull();
    expect(perfOf(s, "m")).toEqual({ ttft: null, throughput: null, samples: 0 });
  });
});

describe("observing a success", () => {
  it("adds to the reputation and measures first-token latency and throughput for that model", () => {
    const s = observe(newNodeState(0), outcome("success", 10, { ttftMs: 120, tokens: 200, streamMs: 4_000 }), CTX);
    expect(s.reputation.successes).toBeCloseTo(1, 6);
    expect(s.reputation.failures).toBe(0);
    expect(perfOf(s, "m")).toEqual({
      ttft: { ms: 120, at: 10 },
      throughput: { tokensPerSecond: 50, at: 10 },
      samples: 1,
    });
    expect(perfOf(s, "other")).toEqual({ ttft: null, throughput: null, samples: 0 });
  });

  it("keeps the estimates it cannot update", () => {
    const first = observe(newNodeState(0), outcome("success", 10, { ttftMs: 120, tokens: 200, streamMs: 4_000 }), CTX);
    const s = observe(first, outcome("success", 20, { ttftMs: null, tokens: null, streamMs: null }), CTX);
    expect(perfOf(s, "m").ttft).toEqual(perfOf(first, "m").ttft);
    expect(perfOf(s, "m").throughput).toEqual(perfOf(first, "m").throughput);
    expect(perfOf(s, "m").samples).toBe(2);
  });

  it("ends a run of failures", () => {
    const failing = apply(
      newNodeState(0),
      [1, 2, 3, 4].map((t) => outcome("error", t)),
    );
    const s = apply(failing, [outcome("success", 5), ...[6, 7, 8, 9].map((t) => outcome("error", t))]);
    expect(isEjected(s.outlier, 9)).toBe(false);
  });

  it("keeps models apart", () => {
    const s = apply(newNodeState(0), [
      outcome("success", 1, { model: "a", ttftMs: 50 }),
      outcome("success", 2, { model: "b", ttftMs: 500 }),
      outcome("success", 3, { model: "b", ttftMs: 500 }),
    ]);
    expect(perfOf(s, "a").ttft?.ms).toBe(50);
    expect(perfOf(s, "a").samples).toBe(1);
    expect(perfOf(s, "b").ttft?.ms).toBe(500);
    expect(perfOf(s, "b").samples).toBe(2);
  });

  it("does not change the state it was given", () => {
    const s = deepFreeze(apply(newNodeState(0), [outcome("success", 1), outcome("error", 2)]));
    const copy = JSON.parse(JSON.stringify(s)) as NodeState;
    for (const kind of ["success", "busy", "error", "timeout"] as const)
      observe(s, outcome(kind, 3, { ttftMs: 10, inFlight: 1 }), CTX);
    expect(JSON.parse(JSON.stringify(s))).toEqual(copy);
  });
});

describe("observing a failure", () => {
  it("counts against the reputation by the failure's weight", () => {
    for (const kind of ["error", "timeout", "stalled", "sse_error", "malformed"] as const) {
      const s = observe(newNodeState(0), outcome(kind, 0), CTX);
      expect(s.reputation.failures, kind).toBe(FAILURE_WEIGHT[kind]);
      expect(s.reputation.successes, kind).toBe(0);
    }
  });

  it("costs more trust for a timeout than for an error", () => {
    const good = apply(
      newNodeState(0),
      Array.from({ length: 20 }, (_, i) => outcome("success", i)),
    );
    expect(trust(observe(good, outcome("timeout", 20), CTX).reputation)).toBeLessThan(
      trust(observe(good, outcome("error", 20), CTX).reputation),
    );
  });

  it("does not count as a measured answer", () => {
    const s = apply(newNodeState(0), [
      outcome("error", 1),
      outcome("timeout", 2, { ttftMs: 5_000 }),
      outcome("stalled", 3),
    ]);
    expect(perfOf(s, "m").samples).toBe(0);
  });

  it(`ejects the node after ${EJECT_AFTER_CONSECUTIVE} in a row when the cap allows`, () => {
    const outs = Array.from({ length: EJECT_AFTER_CONSECUTIVE }, (_, i) => outcome("error", i));
    const ejected = apply(newNodeState(0), outs);
    expect(isEjected(ejected.outlier, EJECT_AFTER_CONSECUTIVE)).toBe(true);
    expect(ejected.outlier.ejectedUntil).toBe(EJECT_AFTER_CONSECUTIVE - 1 + BASE_EJECTION_MS);
    const capped = apply(newNodeState(0), outs, { ...CTX, mayEject: false });
    expect(isEjected(capped.outlier, EJECT_AFTER_CONSECUTIVE)).toBe(false);
  });

  it("ejects at once for a stalled stream, when the cap allows", () => {
    const s = observe(newNodeState(0), outcome("stalled", 10, { ttftMs: 5_000 }), CTX);
    expect(isEjected(s.outlier, 10)).toBe(true);
    expect(s.outlier.ejectedUntil).toBe(10 + BASE_EJECTION_MS);
    const capped = observe(newNodeState(0), outcome("stalled", 10, { ttftMs: 5_000 }), { ...CTX, mayEject: false });
    expect(isEjected(capped.outlier, 10)).toBe(false);
  });

  it("does not eject for one error, SSE error or malformed answer", () => {
    for (const kind of ["error", "sse_error", "malformed"] as const) {
      expect(isEjected(observe(newNodeState(0), outcome(kind, 10), CTX).outlier, 10), kind).toBe(false);
    }
  });

  it("a timeout feeds the latency estimate with the time waited, at once", () => {
    const fast = apply(newNodeState(0), [outcome("success", 0, { ttftMs: 80 }), outcome("success", 1, { ttftMs: 80 })]);
    const s = observe(fast, outcome("timeout", 2, { ttftMs: 30_000 }), CTX);
    expect(perfOf(s, "m").ttft).toEqual({ ms: 30_000, at: 2 });
    expect(perfOf(s, "m").samples).toBe(2);
    expect(perfOf(s, "m").throughput).toEqual(perfOf(fast, "m").throughput);
  });

  it("a timeout on a model never measured starts its latency estimate", () => {
    const s = observe(newNodeState(0), outcome("timeout", 2, { ttftMs: 30_000 }), CTX);
    expect(perfOf(s, "m").ttft).toEqual({ ms: 30_000, at: 2 });
  });

  it("a timeout without a time waited, and other failures, leave the latency alone", () => {
    const fast = observe(newNodeState(0), outcome("success", 0, { ttftMs: 80 }), CTX);
    expect(perfOf(observe(fast, outcome("timeout", 1, { ttftMs: null }), CTX), "m").ttft).toEqual({ ms: 80, at: 0 });
    expect(perfOf(observe(fast, outcome("error", 1, { ttftMs: 9_000 }), CTX), "m").ttft).toEqual({ ms: 80, at: 0 });
    expect(perfOf(observe(fast, outcome("stalled", 1, { ttftMs: 9_000 }), CTX), "m").ttft).toEqual({ ms: 80, at: 0 });
  });
});

describe("observing a timeout", () => {
  const timeout = (at: number, client: string, extra: Partial<Outcome> = {}) =>
    outcome("timeout", at, { ttftMs: 10_000, client, ...extra });

  it("one client's timeouts never eject, however many, nor count as a streak or a failure rate", () => {
    const proven = apply(
      newNodeState(0),
      Array.from({ length: 9 }, (_, i) => outcome("success", i)),
    );
    const s = apply(
      proven,
      Array.from({ length: 2 * EJECT_AFTER_CONSECUTIVE }, (_, i) => timeout(10 + i, "mallory")),
    );
    expect(isEjected(s.outlier, 30)).toBe(false);
    expect(s.outlier).toEqual(proven.outlier);
    expect(s.timeouts).toEqual([{ client: "mallory", at: 10 + 2 * EJECT_AFTER_CONSECUTIVE - 1 }]);
    // They do cost it trust and latency, which is what drains a hung node of traffic.
    expect(s.reputation.failures).toBeGreaterThan(0);
    expect(perfOf(s, "m").ttft?.ms).toBe(10_000);
  });

  it(`ejects once ${EJECT_AFTER_TIMEOUT_CLIENTS} clients have seen one within the window, when the cap allows`, () => {
    const s = apply(newNodeState(0), [timeout(10, "alice"), timeout(20, "bob")]);
    expect(isEjected(s.outlier, 20)).toBe(true);
    expect(s.outlier.ejectedUntil).toBe(20 + BASE_EJECTION_MS);
    // The evidence is spent: after the ejection, one more client's timeout does not eject it again.
    expect(s.timeouts).toEqual([]);
    const capped = apply(newNodeState(0), [timeout(10, "alice"), timeout(20, "bob")], { ...CTX, mayEject: false });
    expect(isEjected(capped.outlier, 20)).toBe(false);
    // Kept: the next timeout ejects it once the cap allows.
    expect(isEjected(observe(capped, timeout(30, "carol"), CTX).outlier, 30)).toBe(true);
  });

  it("does not pair timeouts further apart than the window", () => {
    const s = apply(newNodeState(0), [timeout(0, "alice"), timeout(TIMEOUT_EVIDENCE_WINDOW_MS, "bob")]);
    expect(isEjected(s.outlier, TIMEOUT_EVIDENCE_WINDOW_MS)).toBe(false);
  });

  it("a node on probation is ejected again by one timeout (one ejection already rested on several clients)", () => {
    const ejected = apply(newNodeState(0), [timeout(0, "alice"), timeout(1, "bob")]);
    const back = ejected.outlier.ejectedUntil;
    const again = observe(ejected, timeout(back + 1, "carol"), CTX);
    expect(isEjected(again.outlier, back + 1)).toBe(true);
  });

  it("a timeout on a long prompt is a latency sample scaled to an ordinary prompt", () => {
    const fast = apply(newNodeState(0), [outcome("success", 0, { ttftMs: 200 })]);
    const s = observe(fast, timeout(1, "alice", { ttftMs: 40_000, promptTokens: 4 * ORDINARY_PROMPT_TOKENS }), CTX);
    expect(perfOf(s, "m").ttft?.ms).toBeCloseTo(200 + (10_000 - 200) / 4, 6);
  });
});

describe("a success on a long prompt", () => {
  it("moves the latency estimate by its time scaled to an ordinary prompt, weighed down as much", () => {
    const fast = apply(newNodeState(0), [outcome("success", 0, { ttftMs: 200 })]);
    const s = observe(fast, outcome("success", 1, { ttftMs: 60_000, promptTokens: 12 * ORDINARY_PROMPT_TOKENS }), CTX);
    expect(perfOf(s, "m").ttft?.ms).toBeCloseTo(200 + (5_000 - 200) / 12, 6);
    // The same time on an ordinary prompt is believed at once.
    expect(perfOf(observe(fast, outcome("success", 1, { ttftMs: 60_000, promptTokens: 100 }), CTX), "m").ttft?.ms).toBe(
      60_000,
    );
  });
});

describe("observing a 429", () => {
  it("lowers the learned capacity to what the node held, halving it at most, and touches nothing else", () => {
    const before = apply(newNodeState(0), [outcome("success", 0)]);
    const held = observe(before, outcome("busy", 10, { inFlight: 5 }), CTX);
    expect(effectiveCapacity(CTX.declaredCapacity, held.learnedCapacity, 10)).toBe(5);
    const s = observe(before, outcome("busy", 10, { inFlight: 3 }), CTX);
    expect(effectiveCapacity(CTX.declaredCapacity, s.learnedCapacity, 10)).toBe(4);
    expect(s.reputation).toEqual(before.reputation);
    expect(s.outlier).toEqual(before.outlier);
    expect(s.perf).toEqual(before.perf);
  });

  it("never ejects, however many", () => {
    const s = apply(
      newNodeState(0),
      Array.from({ length: 50 }, (_, i) => outcome("busy", i, { inFlight: 0 })),
    );
    expect(isEjected(s.outlier, 50)).toBe(false);
    expect(effectiveCapacity(CTX.declaredCapacity, s.learnedCapacity, 50)).toBe(1);
  });

  it("lowers the capacity when the gateway did not know the load", () => {
    const s = observe(newNodeState(0), outcome("busy", 0, { inFlight: null }), CTX);
    expect(effectiveCapacity(CTX.declaredCapacity, s.learnedCapacity, 0)).toBeLessThan(CTX.declaredCapacity);
  });

  it("lets the capacity recover with time", () => {
    const s = observe(newNodeState(0), outcome("busy", 0, { inFlight: 2 }), CTX);
    expect(effectiveCapacity(8, s.learnedCapacity, 0)).toBe(4);
    expect(effectiveCapacity(8, s.learnedCapacity, 3 * CAPACITY_RECOVERY_STEP_MS)).toBe(7);
    expect(effectiveCapacity(8, s.learnedCapacity, 60 * CAPACITY_RECOVERY_STEP_MS)).toBe(8);
  });
});

describe("reachability probes", () => {
  it("an unreachable probe ejects the node, a reachable one changes nothing", () => {
    const s = newNodeState(0);
    const down = observeProbe(s, false, 100, true);
    expect(isEjected(down.outlier, 100)).toBe(true);
    expect(down.outlier.ejectedUntil).toBe(100 + BASE_EJECTION_MS);
    expect(observeProbe(s, true, 100, true)).toBe(s);
  });

  it("an unreachable probe does not eject past the cap", () => {
    const s = newNodeState(0);
    expect(isEjected(observeProbe(s, false, 100, false).outlier, 100)).toBe(false);
  });

  it("a second unreachable probe during the ejection does not lengthen it", () => {
    const down = observeProbe(newNodeState(0), false, 100, true);
    expect(observeProbe(down, false, 200, true).outlier.ejectedUntil).toBe(down.outlier.ejectedUntil);
  });
});

describe("model ids that are Object.prototype's keys", () => {
  const ids = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];

  it("read as unmeasured on a fresh node", () => {
    const s = newNodeState(0);
    for (const id of ids) expect(perfOf(s, id), id).toEqual({ ttft: null, throughput: null, samples: 0 });
  });

  it("are measured like any other model, without touching Object.prototype", () => {
    let s = newNodeState(0);
    ids.forEach((id, i) => {
      s = observe(s, outcome("success", i, { model: id, ttftMs: 100 + i }), CTX);
    });
    ids.forEach((id, i) => {
      expect(perfOf(s, id).samples, id).toBe(1);
      expect(perfOf(s, id).ttft?.ms, id).toBe(100 + i);
    });
    expect(Object.getPrototypeOf(s.perf)).toBe(Object.prototype);
    expect(Object.keys(s.perf).sort()).toEqual([...ids].sort());
    expect(({} as Record<string, unknown>)["samples"]).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, "ttft")).toBe(false);
    expect(perfOf(s, "m").samples).toBe(0);
  });

  it("survive a JSON round trip and a null-prototype record", () => {
    const s = apply(newNodeState(0), [outcome("success", 1, { model: "__proto__", ttftMs: 77 })]);
    const back = JSON.parse(JSON.stringify(s)) as NodeState;
    expect(perfOf(back, "__proto__").ttft?.ms).toBe(77);
    const bare: NodeState = { ...back, perf: Object.assign(Object.create(null) as NodeState["perf"], back.perf) };
    expect(perfOf(bare, "__proto__").ttft?.ms).toBe(77);
    expect(perfOf(bare, "constructor").samples).toBe(0);
    const more = observe(bare, outcome("success", 2, { model: "__proto__", ttftMs: 77 }), CTX);
    expect(perfOf(more, "__proto__").samples).toBe(2);
    const timeout = observe(bare, outcome("timeout", 2, { model: "constructor", ttftMs: 9_000 }), CTX);
    expect(perfOf(timeout, "constructor").ttft?.ms).toBe(9_000);
    expect(perfOf(timeout, "__proto__").samples).toBe(1);
  });
});

describe("failures while ejected", () => {
  it("change nothing: not the reputation, not the ejection", () => {
    let state = newNodeState(0);
    const ctx = { declaredCapacity: 8, mayEject: true };
    const fail = (at: number): Outcome => ({
      nodeId: "n",
      model: "m",
      kind: "error",
      at,
      ttftMs: null,
      tokens: null,
      streamMs: null,
      inFlight: null,
    });
    for (let i = 0; i < 5; i++) state = observe(state, fail(i), ctx);
    expect(state.outlier.ejectedUntil).toBeGreaterThan(5);
    const before = state;
    state = observe(state, fail(10), ctx);
    expect(state).toBe(before);
  });
});
