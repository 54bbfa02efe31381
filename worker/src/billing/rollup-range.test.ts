import { describe, expect, it } from "vitest";
import { DAY_MS } from "./retention.js";
import { rollupRangeProblem } from "./rollup-range.js";

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 5, 10, 14, 25);
const KEPT = Date.UTC(2026, 2, 12);
const check = (from: number, to: number) => rollupRangeProblem({ from, to }, NOW, KEPT, 90);

describe("rollupRangeProblem", () => {
  it("answers whole hours inside the retention, whole days before it, and the default range", () => {
    expect(check(Date.UTC(2026, 5, 9, 7), Date.UTC(2026, 5, 9, 13))).toBeNull();
    expect(check(KEPT - 30 * DAY_MS, KEPT + 5 * HOUR)).toBeNull();
    expect(check(0, NOW + 1)).toBeNull();
  });

  it("takes an end within the current hour (or later) as up to now", () => {
    expect(check(Date.UTC(2026, 5, 10, 9), NOW - 60_000)).toBeNull();
    expect(check(Date.UTC(2026, 5, 10, 9), NOW + 1234)).toBeNull();
  });

  it("refuses an end off the hour, naming it", () => {
    expect(check(Date.UTC(2026, 5, 9, 7, 30), Date.UTC(2026, 5, 9, 13))?.param).toBe("from");
    const problem = check(Date.UTC(2026, 5, 9, 7), Date.UTC(2026, 5, 9, 13, 1));
    expect(problem?.param).toBe("to");
    expect(problem?.message).toMatch(/whole UTC hour/);
  });

  it("refuses an hour before the retention, saying how long hours are kept", () => {
    const problem = check(KEPT - 3 * HOUR, NOW);
    expect(problem?.param).toBe("from");
    expect(problem?.message).toMatch(/kept for 90 days \(since 2026-03-12T00:00:00.000Z\).*midnight UTC/);
    expect(check(KEPT - 2 * DAY_MS, KEPT - 5 * HOUR)?.param).toBe("to");
  });
});
