import { describe, expect, it } from "vitest";
import { byOutcome, mergeLoops, type Answer } from "./closed-loop.js";

const answer = (status: number, code: string | null = null): Answer => ({ status, code, retryAfter: null, ms: 1 });

describe("closed-loop results", () => {
  it("merges rounds of one key into one loop over their summed time", () => {
    const merged = mergeLoops([
      { answers: [answer(200)], elapsedMs: 1_000, startedAt: 10, endedAt: 1_010 },
      { answers: [answer(200), answer(429, "insufficient_quota")], elapsedMs: 2_000, startedAt: 5_000, endedAt: 7_000 },
    ]);
    expect(merged.answers).toHaveLength(3);
    expect([merged.elapsedMs, merged.startedAt, merged.endedAt]).toEqual([3_000, 10, 7_000]);
  });

  it("counts answers by status and code, most frequent first", () => {
    expect(
      byOutcome([answer(429, "rate_limit_exceeded"), answer(200), answer(200), answer(0, "fetch failed")]),
    ).toEqual([
      ["200", 2],
      ["429 rate_limit_exceeded", 1],
      ["0 fetch failed", 1],
    ]);
  });
});
