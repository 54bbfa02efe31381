import { describe, expect, it } from "vitest";
import { bigFromSql, bigSum, safeNumber } from "./exact-sum.js";

describe("bigSum", () => {
  it("adds past 2^53 without rounding, where doubles are off by one", () => {
    expect(bigSum([Number.MAX_SAFE_INTEGER, 2])).toBe(2n ** 53n + 1n);
    // In floating point this is 2^53: off by one, silently.
    expect(Number.MAX_SAFE_INTEGER + 2).toBe(2 ** 53);
    expect(bigSum(Array.from({ length: 1_025 }, () => Number.MAX_SAFE_INTEGER))).toBe(1_025n * (2n ** 53n - 1n));
    expect(bigSum([2n ** 64n, 1])).toBe(2n ** 64n + 1n);
    expect(bigSum([])).toBe(0n);
  });

  it("refuses a fraction: money and tokens are whole", () => {
    expect(() => bigSum([1.5, 1])).toThrow(RangeError);
  });
});

describe("safeNumber", () => {
  it("gives back a safe integer and refuses, naming the figure, one a double would round", () => {
    expect(safeNumber(2n ** 53n - 1n, "amount")).toBe(Number.MAX_SAFE_INTEGER);
    expect(safeNumber(0n, "amount")).toBe(0);
    expect(() => safeNumber(2n ** 53n, "the amount")).toThrow(/^the amount \(9007199254740992\) passes 2\^53 - 1/);
    expect(() => safeNumber(2n ** 53n + 1n, "amount")).toThrow(RangeError);
  });
});

describe("bigFromSql", () => {
  it("reads integers SQL gave back as text exactly, and null as 0", () => {
    expect(bigFromSql("9223372036854775807")).toBe(2n ** 63n - 1n);
    expect(bigFromSql("18014398509481982")).toBe(2n * (2n ** 53n - 1n));
    expect(bigFromSql("-3")).toBe(-3n);
    expect(bigFromSql(null)).toBe(0n);
    expect(bigFromSql(42)).toBe(42n);
  });

  it("refuses anything that is not an exact integer, rather than guess", () => {
    for (const bad of ["9.22337203685478e+18", "1.5", "", "12abc", 2 ** 60, 1.5, new ArrayBuffer(1)])
      expect(() => bigFromSql(bad)).toThrow(RangeError);
  });
});
