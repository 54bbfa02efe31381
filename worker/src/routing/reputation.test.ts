import { describe, expect, it } from "vitest";
import { decay, recordOutcome, REPUTATION_HALF_LIFE_MS, reputationScore, type Reputation } from "./reputation.js";

const NEW_REPUTATION = (at: number): Reputation => ({ successes: 0, failures: 0, at });

describe("beta reputation", () => {
  it("starts neutral", () => {
    expect(reputationScore(NEW_REPUTATION(0))).toBe(0.5);
  });

  it("rises with successes and falls with failures", () => {
    let good = NEW_REPUTATION(0);
    let bad = NEW_REPUTATION(0);
    for (let i = 0; i < 20; i++) {
      good = recordOutcome(good, true, i);
      bad = recordOutcome(bad, false, i);
    }
    expect(reputationScore(good)).toBeGreaterThan(0.9);
    expect(reputationScore(bad)).toBeLessThan(0.1);
  });

  it("halves old evidence every half-life, so a node can recover", () => {
    const rep = { successes: 0, failures: 8, at: 0 };
    expect(decay(rep, REPUTATION_HALF_LIFE_MS).failures).toBeCloseTo(4, 6);
    const recovered = recordOutcome(decay(rep, 5 * REPUTATION_HALF_LIFE_MS), true, 5 * REPUTATION_HALF_LIFE_MS);
    expect(reputationScore(recovered)).toBeGreaterThan(0.5);
  });

  it("does not decay backwards in time", () => {
    const rep = { successes: 3, failures: 1, at: 1000 };
    expect(decay(rep, 500)).toEqual(rep);
  });
});
