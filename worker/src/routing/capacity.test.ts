import { describe, expect, it } from "vitest";
import { CAPACITY_RECOVERY_STEP_MS, effectiveCapacity, learnFromBusy, type LearnedCapacity } from "./capacity.js";

describe("effective capacity", () => {
  it("is the declared capacity until a 429 says otherwise", () => {
    expect(effectiveCapacity(8, null, 0)).toBe(8);
    expect(effectiveCapacity(1, null, 1e12)).toBe(1);
  });

  it("recovers one slot per step after a 429, never past the declared capacity", () => {
    const learned: LearnedCapacity = { limit: 2, at: 1_000 };
    expect(effectiveCapacity(8, learned, 1_000)).toBe(2);
    expect(effectiveCapacity(8, learned, 1_000 + CAPACITY_RECOVERY_STEP_MS - 1)).toBe(2);
    expect(effectiveCapacity(8, learned, 1_000 + CAPACITY_RECOVERY_STEP_MS)).toBe(3);
    expect(effectiveCapacity(8, learned, 1_000 + 3 * CAPACITY_RECOVERY_STEP_MS + 5)).toBe(5);
    expect(effectiveCapacity(8, learned, 1_000 + 6 * CAPACITY_RECOVERY_STEP_MS)).toBe(8);
    expect(effectiveCapacity(8, learned, 1_000 + 600 * CAPACITY_RECOVERY_STEP_MS)).toBe(8);
  });

  it("follows a lower declared capacity at once", () => {
    expect(effectiveCapacity(3, { limit: 6, at: 0 }, 0)).toBe(3);
  });

  it("does not recover backwards in time", () => {
    expect(effectiveCapacity(8, { limit: 2, at: 100_000 }, 0)).toBe(2);
  });
});

describe("learning capacity from a 429", () => {
  it("caps the node at the requests it held besides the refused one, but halves it at most", () => {
    // 5 others open on an 8-slot node: it holds 5.
    expect(learnFromBusy(null, 5, 8, 5_000)).toEqual({ limit: 5, at: 5_000 });
    // Only 3 others seen: the node may be busy with requests the gateway cannot see, so one 429 halves it to 4, not 3.
    const learned = learnFromBusy(null, 3, 8, 5_000);
    expect(learned).toEqual({ limit: 4, at: 5_000 });
    expect(effectiveCapacity(8, learned, 5_000)).toBe(4);
    expect(learnFromBusy(null, 0, 16, 0).limit).toBe(8);
  });

  it("always lowers the capacity by at least one, even when the gateway counted more in flight", () => {
    expect(effectiveCapacity(8, learnFromBusy(null, 20, 8, 0), 0)).toBe(7);
    let learned: LearnedCapacity | null = null;
    for (let i = 0; i < 3; i++) learned = learnFromBusy(learned, 100, 8, 0);
    expect(effectiveCapacity(8, learned, 0)).toBe(5);
  });

  it("keeps halving with repeated 429s, never below one request", () => {
    const limits: number[] = [];
    let learned: LearnedCapacity | null = null;
    for (let i = 0; i < 6; i++) {
      learned = learnFromBusy(learned, 0, 16, 0);
      limits.push(learned.limit);
    }
    expect(limits).toEqual([8, 4, 2, 1, 1, 1]);
    expect(learnFromBusy({ limit: 1, at: 0 }, 5, 8, 0).limit).toBe(1);
    expect(learnFromBusy(null, 0, 1, 0).limit).toBe(1);
  });

  it("starts from the recovered capacity, not the stale limit", () => {
    const first = learnFromBusy(null, 2, 16, 0);
    expect(first.limit).toBe(8);
    // Five steps later the node holds 13; a 429 with 2 others open halves that to 6 (from the stale 8 it would be 4).
    const second = learnFromBusy(first, 2, 16, 5 * CAPACITY_RECOVERY_STEP_MS);
    expect(second).toEqual({ limit: 6, at: 5 * CAPACITY_RECOVERY_STEP_MS });
    // Fully recovered, then a 429 with many open: one less than the declared capacity.
    const third = learnFromBusy(first, 100, 16, 100 * CAPACITY_RECOVERY_STEP_MS);
    expect(third.limit).toBe(15);
  });

  it("restarts the recovery clock at each 429", () => {
    const first = learnFromBusy(null, 4, 8, 0);
    const second = learnFromBusy(first, 4, 8, CAPACITY_RECOVERY_STEP_MS * 1.5); // recovered to 5, learns 4 (above half)
    expect(effectiveCapacity(8, second, CAPACITY_RECOVERY_STEP_MS * 2)).toBe(4);
    expect(effectiveCapacity(8, second, CAPACITY_RECOVERY_STEP_MS * 2.5)).toBe(5);
  });
});
