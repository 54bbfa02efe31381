import { describe, expect, it } from "vitest";
import { goDuration } from "./go-duration.js";

describe("goDuration (OpenAI's x-ratelimit-reset-* format)", () => {
  it.each([
    [0, "0s"],
    [120, "120ms"],
    [999, "999ms"],
    [1_000, "1s"],
    [1_500, "1.5s"],
    [8_640, "8.64s"],
    [59_999, "59.999s"],
    [60_000, "1m0s"],
    [360_000, "6m0s"],
    [90_500, "1m30.5s"],
    [3_600_000, "1h0m0s"],
    [3_723_500, "1h2m3.5s"],
  ])("%d ms is %s", (ms, text) => {
    expect(goDuration(ms)).toBe(text);
  });

  it("rounds a fraction of a millisecond up, so a client never retries early", () => {
    expect(goDuration(0.2)).toBe("1ms");
    expect(goDuration(-5)).toBe("0s");
  });
});
