import { describe, expect, it } from "vitest";
import { queryInt } from "./query-int.js";

const read = (query: string) => queryInt(new URLSearchParams(query), "limit", { fallback: 20, min: 1, max: 100 });

describe("queryInt", () => {
  it("reads decimal digits within the range, and the fallback when absent or empty", () => {
    expect(read("limit=1")).toEqual({ ok: true, value: 1 });
    expect(read("limit=100")).toEqual({ ok: true, value: 100 });
    expect(read("limit=007")).toEqual({ ok: true, value: 7 });
    expect(read("")).toEqual({ ok: true, value: 20 });
    expect(read("limit=")).toEqual({ ok: true, value: 20 });
    expect(read("other=5")).toEqual({ ok: true, value: 20 });
  });

  it("refuses anything else, naming the parameter and the range", () => {
    const refusal = {
      kind: "invalid",
      param: "limit",
      code: "invalid_value",
      message: "Invalid limit: an integer from 1 to 100.",
    };
    for (const value of ["0", "101", "-1", "+5", "1e1", "5.0", "0x10", " 5", "5 ", "five", "99999999999999999999"]) {
      expect(read(`limit=${encodeURIComponent(value)}`), value).toEqual({ ok: false, refusal });
    }
  });
});
