import { describe, expect, it } from "vitest";
import type { Answer } from "./closed-loop.js";
import { bucketAllowance, loopFigures, stillRising, wrongRefusals } from "./checks.js";

const answer = (status: number, code: string | null = null, retryAfter: string | null = null): Answer => ({
  status,
  code,
  retryAfter,
  ms: 10,
});

describe("hot-key bench checks", () => {
  it("allows a per-minute bucket its burst plus what refills over the window", () => {
    expect(bucketAllowance(120, 1_000, 1_000)).toBe(120);
    expect(bucketAllowance(120, 0, 10_000)).toBe(140);
    expect(bucketAllowance(6_000, 0, 10_500)).toBe(7_050);
  });

  it("goes on ramping while each step beats the best before it by the gain", () => {
    expect(stillRising([100], 0.05)).toBe(true);
    expect(stillRising([100, 106], 0.05)).toBe(true);
    expect(stillRising([100, 104], 0.05)).toBe(false);
    expect(stillRising([100, 200, 150], 0.05)).toBe(false);
  });

  it("names every answer that is not a success or the expected 429", () => {
    const answers = [
      answer(200),
      answer(429, "rate_limit_exceeded", "3"),
      answer(429, "rate_limit_exceeded", null),
      answer(429, "insufficient_quota"),
      answer(503, "no_capacity"),
      answer(503, "no_capacity"),
    ];
    expect(wrongRefusals(answers, "rate_limit_exceeded", true)).toEqual([
      "503 no_capacity ×2",
      "429 rate_limit_exceeded without Retry-After ×1",
      "429 insufficient_quota ×1",
    ]);
    expect(wrongRefusals(answers.slice(0, 1), "insufficient_quota", false)).toEqual([]);
  });

  it("counts only successes as answered, per second of the loop", () => {
    const loop = { answers: [answer(200), answer(200), answer(429, "x")], elapsedMs: 500, startedAt: 0, endedAt: 500 };
    const f = loopFigures(2, loop);
    expect([f.sent, f.answered, f.perSecond, f.p50Ms]).toEqual([3, 2, 4, 10]);
    expect(f.outcomes).toEqual([
      ["200", 2],
      ["429 x", 1],
    ]);
  });
});
