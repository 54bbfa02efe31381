import { describe, expect, it } from "vitest";
import { parseSince } from "./since-option.js";
import { UsageError } from "./usage-error.js";

describe("parseSince", () => {
  it("reads unix seconds and ISO 8601 dates and date-times, as UTC unless an offset is given", () => {
    expect(parseSince("1777000000")).toBe(1_777_000_000_000);
    expect(parseSince("0")).toBe(0);
    expect(parseSince("2026-05-01")).toBe(Date.UTC(2026, 4, 1));
    expect(parseSince("2026-05-01T12:30:00Z")).toBe(Date.UTC(2026, 4, 1, 12, 30));
    expect(parseSince("2026-05-01T12:30")).toBe(Date.UTC(2026, 4, 1, 12, 30));
    expect(parseSince("2026-05-01 12:30:15.5")).toBe(Date.UTC(2026, 4, 1, 12, 30, 15, 500));
    expect(parseSince("2026-05-01T12:30:00+02:00")).toBe(Date.UTC(2026, 4, 1, 10, 30));
  });

  it("refuses anything else as a usage error", () => {
    for (const bad of [
      "",
      "yesterday",
      "-5",
      "1.5",
      "1e9",
      "2026-13-01",
      "2026-05-01T25:00Z",
      "May 1, 2026",
      "1234567890123",
    ]) {
      expect(() => parseSince(bad), bad).toThrow(UsageError);
    }
  });
});
