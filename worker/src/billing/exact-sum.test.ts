import { describe, expect, it } from "vitest";
import { exactSum } from "./exact-sum.js";

describe("exactSum", () => {
  it("adds integers up to 2^53 - 1 and throws, naming the figure, where a double would round", () => {
    expect(exactSum(2 ** 52 + 1, 2 ** 52 - 2, "cost")).toBe(Number.MAX_SAFE_INTEGER);
    // In floating point this is 2^53: off by one, silently.
    expect(Number.MAX_SAFE_INTEGER + 2).toBe(2 ** 53);
    expect(() => exactSum(Number.MAX_SAFE_INTEGER, 2, "cost")).toThrow(/^cost passes 2\^53/);
    expect(() => exactSum(1.5, 1, "cost")).toThrow(RangeError);
  });
});
