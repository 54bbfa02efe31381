import { describe, expect, it } from "vitest";
import {
  CONNECT_TIMEOUT_MS,
  FAST_ERROR_MS,
  FIRST_TOKEN_TIMEOUT_MS,
  planAttempt,
  STALL_TIMEOUT_MS,
} from "./behaviour.js";
import { makeNode, type Behaviour, type SimNode } from "./mesh.js";
import { Rng } from "./random.js";

function node(behaviour: Behaviour, over: Partial<SimNode> = {}): SimNode {
  const base = makeNode(1, 0, 0, 60_000);
  const liar = behaviour.kind === "liar";
  return {
    ...base,
    behaviour,
    bad: behaviour.kind !== "honest",
    rttMs: 20,
    ttftMedianMs: 100,
    ttftSigma: 0,
    tokensPerSecond: 50,
    trueCapacity: liar ? 2 : 4,
    declaredCapacity: liar ? 32 : 4,
    goneAt: Infinity,
    dark: false,
    listedUntil: Infinity,
    ...over,
  };
}

const rng = (): Rng => new Rng(5);

describe("planAttempt", () => {
  it("an honest node answers after round trip + TTFT, slower with load, and 429s when full", () => {
    const n = node({ kind: "honest" });
    const idle = planAttempt(n, 0, 100, 0, rng());
    expect(idle.kind).toBe("success");
    expect(idle.firstTokenMs).toBeCloseTo(120);
    expect(idle.endMs).toBeGreaterThan(120 + 1000);
    expect(planAttempt(n, 2, 100, 0, rng()).ttftMs).toBeCloseTo(20 + 100 * 1.25);
    const full = planAttempt(n, 4, 100, 0, rng());
    expect(full).toMatchObject({ kind: "busy", endMs: 20, occupies: false });
  });

  it("a stall adversary costs the first-token timeout; a fast-error one answers in ms", () => {
    expect(planAttempt(node({ kind: "stall" }), 100, 10, 0, rng())).toMatchObject({
      kind: "timeout",
      endMs: FIRST_TOKEN_TIMEOUT_MS,
      ttftMs: FIRST_TOKEN_TIMEOUT_MS,
    });
    const fast = planAttempt(node({ kind: "fast_error" }), 100, 10, 0, rng());
    expect(["error", "sse_error"]).toContain(fast.kind);
    expect(fast.endMs).toBe(20 + FAST_ERROR_MS);
  });

  it("a liar slows with its real queue and 429s only past four times its real capacity", () => {
    const n = node({ kind: "liar", realCapacity: 2 });
    expect(planAttempt(n, 1, 10, 0, rng()).ttftMs).toBeCloseTo(120);
    expect(planAttempt(n, 5, 10, 0, rng()).ttftMs).toBeCloseTo(20 + 100 * 5);
    expect(planAttempt(n, 7, 10, 0, rng()).kind).toBe("success");
    expect(planAttempt(n, 8, 10, 0, rng()).kind).toBe("busy");
  });

  it("a flaky node fails about its share, some failures after the first token", () => {
    const n = node({ kind: "flaky", failShare: 0.3 });
    const r = rng();
    const kinds = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const k = planAttempt(n, 0, 100, 0, r).kind;
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    expect((kinds.get("success") ?? 0) / 10_000).toBeCloseTo(0.7, 1);
    for (const k of ["error", "sse_error", "stalled"]) expect(kinds.get(k) ?? 0).toBeGreaterThan(500);
  });

  it(
    "churn: a node gone refuses (clean leave) or times out the connection (dark); going dark mid-stream " + "stalls it",
    () => {
      expect(planAttempt(node({ kind: "honest" }, { goneAt: 50 }), 0, 100, 60, rng())).toMatchObject({
        kind: "error",
        endMs: 20,
      });
      const dark = { goneAt: 50, dark: true, listedUntil: 10_050 };
      expect(planAttempt(node({ kind: "honest" }, dark), 0, 100, 60, rng())).toMatchObject({
        kind: "error",
        endMs: CONNECT_TIMEOUT_MS,
      });
      expect(planAttempt(node({ kind: "honest" }, dark), 0, 100, 0, rng())).toMatchObject({ kind: "timeout" });
      const midStream = planAttempt(node({ kind: "honest" }, { ...dark, goneAt: 500 }), 0, 100, 0, rng());
      expect(midStream).toMatchObject({ kind: "stalled", firstTokenMs: 120, endMs: 500 + STALL_TIMEOUT_MS });
    },
  );
});
