import { describe, expect, it } from "vitest";
import { instantMs, MAX_INSTANT_MS } from "./instant.js";

describe("instantMs", () => {
  it("reads unix seconds (a number or digits) and ISO 8601 into ms", () => {
    expect(instantMs(1_700_000_000)).toBe(1_700_000_000_000);
    expect(instantMs("1700000000")).toBe(1_700_000_000_000);
    expect(instantMs("2026-05-01T00:00:00.250Z")).toBe(Date.parse("2026-05-01T00:00:00.250Z"));
    expect(instantMs("1969-12-31T00:00:00Z")).toBe(-86_400_000);
  });

  it("reaches as far as 12 digits of unix seconds either way, and no further", () => {
    expect(instantMs("999999999999")).toBe(MAX_INSTANT_MS);
    expect(instantMs(new Date(MAX_INSTANT_MS).toISOString())).toBe(MAX_INSTANT_MS);
    expect(instantMs(new Date(MAX_INSTANT_MS + 1).toISOString())).toBeNull();
    // Date's own limits: valid dates, but nothing can be added to them.
    expect(instantMs("+275760-09-13T00:00:00Z")).toBeNull();
    expect(instantMs("-271821-04-20T00:00:00Z")).toBeNull();
  });

  it("refuses what is not an instant", () => {
    for (const value of ["yesterday", "", "1e9", "1234567890123"]) expect(instantMs(value)).toBeNull();
    expect(instantMs(1.5e-4)).toBeNull();
  });
});
