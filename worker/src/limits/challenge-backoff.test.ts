import { describe, expect, it } from "vitest";
import { CHALLENGE_RETRY_MAX_MS, challengeDelay } from "./challenge-backoff.js";

describe("challenge back-off", () => {
  it("doubles from 10 s per challenge sent, up to 5 minutes", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(challengeDelay)).toEqual([
      10_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000,
    ]);
    expect(challengeDelay(1_000)).toBe(CHALLENGE_RETRY_MAX_MS);
  });
});
