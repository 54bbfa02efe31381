import { describe, expect, it } from "vitest";
import {
  decay,
  newReputation,
  recordOutcome,
  REPUTATION_HALF_LIFE_MS,
  reputationScore,
  trust,
  TRUST_FLOOR,
  uncertainty,
  type Reputation,
} from "./reputation.js";

const NEW_REPUTATION = (at: number): Reputation => ({ successes: 0, failures: 0, at });

/** `n` outcomes of one kind, one per millisecond from `from`. */
function record(rep: Reputation, ok: boolean, n: number, from = rep.at): Reputation {
  let r = rep;
  for (let i = 0; i < n; i++) r = recordOutcome(r, ok, from + i);
  return r;
}

describe("beta reputation", () => {
  it("starts neutral", () => {
    expect(reputationScore(NEW_REPUTATION(0))).toBe(0.5);
    expect(newReputation(123)).toEqual({ successes: 0, failures: 0, at: 123 });
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

  it("is E = (s + 1) / (s + f + 2)", () => {
    expect(reputationScore({ successes: 3, failures: 1, at: 0 })).toBeCloseTo(4 / 6, 12);
    expect(reputationScore({ successes: 0, failures: 2, at: 0 })).toBeCloseTo(1 / 4, 12);
  });

  it("halves old evidence every half-life, so a node can recover", () => {
    const rep = { successes: 0, failures: 8, at: 0 };
    expect(decay(rep, REPUTATION_HALF_LIFE_MS).failures).toBeCloseTo(4, 6);
    const recovered = recordOutcome(decay(rep, 5 * REPUTATION_HALF_LIFE_MS), true, 5 * REPUTATION_HALF_LIFE_MS);
    expect(reputationScore(recovered)).toBeGreaterThan(0.5);
  });

  it("decays successes and failures alike, keeping E's direction but losing certainty", () => {
    const rep = { successes: 30, failures: 10, at: 0 };
    const old = decay(rep, 3 * REPUTATION_HALF_LIFE_MS);
    expect(old.successes).toBeCloseTo(30 / 8, 9);
    expect(old.failures).toBeCloseTo(10 / 8, 9);
    expect(old.at).toBe(3 * REPUTATION_HALF_LIFE_MS);
    expect(uncertainty(old)).toBeGreaterThan(uncertainty(rep));
  });

  it("decays the old evidence before adding the new", () => {
    const rep = recordOutcome({ successes: 4, failures: 0, at: 0 }, false, REPUTATION_HALF_LIFE_MS);
    expect(rep).toEqual({ successes: 2, failures: 1, at: REPUTATION_HALF_LIFE_MS });
  });

  it("does not decay backwards in time", () => {
    const rep = { successes: 3, failures: 1, at: 1000 };
    expect(decay(rep, 500)).toEqual(rep);
    expect(recordOutcome(rep, true, 500)).toEqual({ successes: 4, failures: 1, at: 1000 });
  });

  it("counts a weighted outcome as that many outcomes", () => {
    const once = recordOutcome(NEW_REPUTATION(0), false, 0, 2);
    const twice = recordOutcome(recordOutcome(NEW_REPUTATION(0), false, 0), false, 0);
    expect(once).toEqual(twice);
    expect(recordOutcome(NEW_REPUTATION(0), true, 0, 3).successes).toBe(3);
    expect(recordOutcome(NEW_REPUTATION(0), true, 0).successes).toBe(1);
  });
});

describe("uncertainty", () => {
  it("is total for a node without a record and shrinks as evidence piles up", () => {
    expect(uncertainty(NEW_REPUTATION(0))).toBe(1);
    expect(uncertainty({ successes: 2, failures: 0, at: 0 })).toBeCloseTo(0.5, 12);
    expect(uncertainty({ successes: 1, failures: 1, at: 0 })).toBeCloseTo(0.5, 12);
    expect(uncertainty({ successes: 98, failures: 0, at: 0 })).toBeCloseTo(0.02, 12);
  });

  it("does not care whether the evidence is good or bad", () => {
    expect(uncertainty({ successes: 10, failures: 0, at: 0 })).toBe(uncertainty({ successes: 0, failures: 10, at: 0 }));
  });

  it("grows back as evidence decays", () => {
    const rep = record(NEW_REPUTATION(0), true, 50);
    const u = uncertainty(rep);
    expect(uncertainty(decay(rep, 50 + REPUTATION_HALF_LIFE_MS))).toBeGreaterThan(u);
    expect(uncertainty(decay(rep, 50 + 50 * REPUTATION_HALF_LIFE_MS))).toBeCloseTo(1, 6);
  });
});

describe("trust", () => {
  it("is full for a node without a record: optimistic, so a new node is tried", () => {
    expect(trust(NEW_REPUTATION(0))).toBe(1);
  });

  it("is E + u/2 = (s + 2) / (s + f + 2)", () => {
    const rep = { successes: 8, failures: 2, at: 0 };
    expect(trust(rep)).toBeCloseTo(reputationScore(rep) + uncertainty(rep) / 2, 12);
    expect(trust(rep)).toBeCloseTo(10 / 12, 12);
    expect(trust({ successes: 0, failures: 1, at: 0 })).toBeCloseTo(2 / 3, 12);
    expect(trust({ successes: 0, failures: 2, at: 0 })).toBeCloseTo(1 / 2, 12);
  });

  it("stays full while a node has never failed", () => {
    for (const s of [1, 2, 10, 1_000]) expect(trust({ successes: s, failures: 0, at: 0 })).toBe(1);
  });

  it("never exceeds 1", () => {
    const rep = record(NEW_REPUTATION(0), true, 500);
    expect(trust(rep)).toBeLessThanOrEqual(1);
  });

  it("approaches E from above as evidence piles up", () => {
    const rep = { successes: 9_000, failures: 1_000, at: 0 };
    expect(trust(rep)).toBeCloseTo(reputationScore(rep), 3);
    expect(trust(rep)).toBeGreaterThan(reputationScore(rep));
  });

  it("never falls below the floor, however bad the record", () => {
    expect(trust({ successes: 0, failures: 1_000, at: 0 })).toBe(TRUST_FLOOR);
    expect(trust({ successes: 0, failures: 98, at: 0 })).toBeCloseTo(TRUST_FLOOR, 12);
    expect(trust({ successes: 0, failures: 97, at: 0 })).toBeGreaterThan(TRUST_FLOOR);
    expect(TRUST_FLOOR).toBeGreaterThan(0);
  });

  it("falls with each failure, and rises again with each success after one", () => {
    let rep = record(NEW_REPUTATION(0), true, 10);
    let last = trust(rep);
    for (let i = 10; i < 15; i++) {
      rep = recordOutcome(rep, false, i);
      expect(trust(rep)).toBeLessThan(last);
      last = trust(rep);
    }
    for (let i = 15; i < 40; i++) {
      rep = recordOutcome(rep, true, i);
      expect(trust(rep)).toBeGreaterThan(last);
      last = trust(rep);
    }
    expect(last).toBeLessThan(1);
  });

  it("lets a long good record absorb a failure that costs a new node much", () => {
    const young = recordOutcome(NEW_REPUTATION(0), false, 0);
    const seasoned = recordOutcome(record(NEW_REPUTATION(0), true, 100), false, 100);
    expect(trust(young)).toBeCloseTo(2 / 3, 6);
    expect(trust(seasoned)).toBeGreaterThan(0.99);
  });

  it("a double-weighted failure costs more trust than a single one", () => {
    const base = record(NEW_REPUTATION(0), true, 20);
    expect(trust(recordOutcome(base, false, 20, 2))).toBeLessThan(trust(recordOutcome(base, false, 20, 1)));
  });

  it("recovers toward full as a bad record decays", () => {
    const bad = record(NEW_REPUTATION(0), false, 10);
    const later = decay(bad, 10 + 10 * REPUTATION_HALF_LIFE_MS);
    expect(trust(bad)).toBeLessThan(0.2);
    expect(trust(later)).toBeGreaterThan(0.99);
  });
});
