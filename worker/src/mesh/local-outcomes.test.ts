import { beforeEach, describe, expect, it } from "vitest";
import type { Outcome } from "../routing/index.js";
import { forgetOutcomes, outcomesNotIn, outcomesWritten, rememberOutcome } from "./local-outcomes.js";

const outcome = (nodeId: string, at: number): Outcome => ({
  nodeId,
  model: "m",
  kind: "timeout",
  at,
  ttftMs: 10_000,
  tokens: null,
  streamMs: null,
  inFlight: 0,
});

describe("outcomes on their way to the registry", () => {
  beforeEach(forgetOutcomes);

  it("are re-applied to a snapshot until the registry has confirmed them before the snapshot was requested", () => {
    const a = outcome("a", 1);
    const b = outcome("b", 2);
    rememberOutcome(a);
    rememberOutcome(b);
    expect(outcomesNotIn(100)).toEqual([a, b]);
    outcomesWritten([a], 150);
    // A snapshot requested before the write finished may or may not hold it: re-apply.
    expect(outcomesNotIn(100)).toEqual([a, b]);
    // One requested after the write holds it.
    expect(outcomesNotIn(200)).toEqual([b]);
  });

  it("forget written outcomes after a while, and never hold more than a bounded number", () => {
    const a = outcome("a", 1);
    rememberOutcome(a);
    outcomesWritten([a], 1_000);
    outcomesWritten([], 1_000 + 10_001);
    expect(outcomesNotIn(0)).toEqual([]);
    for (let i = 0; i < 10_050; i++) rememberOutcome(outcome(`n${i}`, i));
    const kept = outcomesNotIn(0);
    expect(kept).toHaveLength(10_000);
    expect(kept[0]?.nodeId).toBe("n50");
  });
});
