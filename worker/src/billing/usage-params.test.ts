import { describe, expect, it } from "vitest";
import { HttpError } from "../http/http-error.js";
import { orThrow } from "../http/refusal.js";
import { DEFAULT_LIMIT, parseUsageParams } from "./usage-params.js";

const NOW = Date.UTC(2026, 3, 20);
/** As the route reads them: a refusal is thrown as the client's error. */
const parse = (query: string) =>
  orThrow(parseUsageParams(new URLSearchParams(query), NOW, ["model", "node", "day"] as const));

function paramOf(query: string): string | null {
  try {
    parse(query);
  } catch (err) {
    if (err instanceof HttpError && err.status === 400) return err.param;
    throw err;
  }
  throw new Error(`${query} was accepted`);
}

describe("usage query parameters", () => {
  it("default to everything up to now, ungrouped JSON", () => {
    expect(parse("")).toEqual({ from: 0, to: NOW + 1, groupBy: null, format: "json", limit: DEFAULT_LIMIT });
  });

  it("read unix seconds and ISO 8601, a grouping, a format and a limit", () => {
    expect(parse("from=1700000000&to=2026-04-01T00:00:00Z&group_by=day&format=csv&limit=5")).toEqual({
      from: 1_700_000_000_000,
      to: Date.UTC(2026, 3, 1),
      groupBy: "day",
      format: "csv",
      limit: 5,
    });
  });

  it("refuse bad values naming the parameter", () => {
    expect(paramOf("from=yesterday")).toBe("from");
    expect(paramOf("to=soon")).toBe("to");
    expect(paramOf("from=2000&to=1000")).toBe("to");
    expect(paramOf("group_by=key")).toBe("group_by");
    expect(paramOf("group_by=Model")).toBe("group_by");
    expect(paramOf("format=xml")).toBe("format");
    expect(paramOf("limit=0")).toBe("limit");
    expect(paramOf("limit=10001")).toBe("limit");
    // Decimal digits only, as every integer query parameter (lib/query-int.ts): Number() would read these.
    for (const limit of ["1e3", "+5", "5.0", "0x10", " 5"])
      expect(paramOf(`limit=${encodeURIComponent(limit)}`)).toBe("limit");
    expect(paramOf(`to=${encodeURIComponent("+275760-09-13T00:00:00Z")}`)).toBe("to");
    expect(paramOf(`from=${encodeURIComponent("-271821-04-20T00:00:00Z")}`)).toBe("from");
  });
});
