import { describe, expect, it } from "vitest";
import { DAY_MS, DEFAULT_RETENTION_DAYS, retentionDays, rowsKeptSince, startOfDay } from "./retention.js";
import { planRange, retentionProblem } from "./usage-range.js";

const D = (day: number, hour = 0) => Date.UTC(2026, 3, day, hour);

describe("planRange", () => {
  it("reads whole UTC days from the roll-ups and the partial days at the ends from rows", () => {
    expect(planRange(D(1), D(4))).toEqual({ days: { from: D(1), to: D(4) }, edges: [] });
    expect(planRange(D(1, 6), D(4, 18))).toEqual({
      days: { from: D(2), to: D(4) },
      edges: [
        { from: D(1, 6), to: D(2) },
        { from: D(4), to: D(4, 18) },
      ],
    });
    expect(planRange(D(1), D(3, 1))).toEqual({ days: { from: D(1), to: D(3) }, edges: [{ from: D(3), to: D(3, 1) }] });
  });

  it("reads a range without a whole day from rows alone", () => {
    expect(planRange(D(1, 6), D(2, 5))).toEqual({ days: null, edges: [{ from: D(1, 6), to: D(2, 5) }] });
    expect(planRange(D(1, 6), D(1, 6))).toEqual({ days: null, edges: [] });
  });
});

describe("retention", () => {
  it("reads USAGE_RETENTION_DAYS, falling back to 90 days", () => {
    expect(retentionDays(undefined)).toBe(DEFAULT_RETENTION_DAYS);
    expect(retentionDays(" 30 ")).toBe(30);
    for (const bad of ["0", "-1", "1.5", "soon", ""]) expect(retentionDays(bad)).toBe(90);
  });

  it("keeps rows from midnight UTC of the day the retention began", () => {
    expect(startOfDay(D(10, 13) + 5)).toBe(D(10));
    expect(rowsKeptSince(D(100, 13), 90)).toBe(D(10));
    expect(rowsKeptSince(D(100), 90)).toBe(D(100) - 90 * DAY_MS);
  });

  it("refuses a range whose partial days fall before the retention, naming the end at fault", () => {
    const kept = D(10);
    expect(retentionProblem(planRange(0, D(20, 5)), kept, 90)).toBeNull();
    expect(retentionProblem(planRange(D(5), D(6)), kept, 90)).toBeNull();
    expect(retentionProblem(planRange(D(10, 1), D(11, 5)), kept, 90)).toBeNull();
    const early = retentionProblem(planRange(D(5, 1), D(20)), kept, 90);
    expect(early).toMatchObject({ param: "from" });
    expect(early?.message).toContain("kept for 90 days (since 2026-04-10T00:00:00.000Z)");
    expect(retentionProblem(planRange(D(1), D(5, 1)), kept, 90)).toMatchObject({ param: "to" });
    expect(retentionProblem(planRange(D(5, 1), D(5, 2)), kept, 90)).toMatchObject({ param: "from" });
  });
});
