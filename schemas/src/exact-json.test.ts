import { describe, expect, it } from "vitest";
import { exactJson, type ExactJson } from "./exact-json.js";

describe("exactJson", () => {
  it("writes a bigint as its exact integer literal, past 2^53 and past 2^64", () => {
    const big = 2n ** 53n + 1n;
    expect(exactJson({ cost: big })).toBe('{"cost":9007199254740993}');
    // JSON.stringify of the nearest double would have said ...992.
    expect(JSON.stringify({ cost: Number(big) })).toBe('{"cost":9007199254740992}');
    expect(exactJson([2n ** 64n, 0n, 7n])).toBe("[18446744073709551616,0,7]");
  });

  it("writes a safe bigint exactly as the number would be written", () => {
    for (const n of [0, 1, 12_345, Number.MAX_SAFE_INTEGER])
      expect(exactJson({ n: BigInt(n) })).toBe(JSON.stringify({ n }));
  });

  it("writes everything else as JSON.stringify does", () => {
    const value = {
      object: "usage",
      nested: { a: [1, 2.5, -3e-7, true, false, null, "x"], empty: {}, list: [] },
      text: 'quote " backslash \\ newline \n unicode \u2028 emoji 😀 control \u0001',
      'key "with" quotes': 1,
      skipped: undefined,
    };
    expect(exactJson(value)).toBe(JSON.stringify(value));
    expect(JSON.parse(exactJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it("never turns a string into a number, whatever it looks like", () => {
    for (const text of ["123", "9007199254740993n", '"1"', "__bigint__1", "\\u0031", "1n"]) {
      const out = exactJson({ model: text, cost: 5n });
      expect(JSON.parse(out)).toEqual({ model: text, cost: 5 });
    }
  });

  it("refuses a number that has no JSON form rather than write null", () => {
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(() => exactJson({ cost: n } satisfies ExactJson)).toThrow(RangeError);
  });

  it("keeps a negative bigint's sign", () => {
    expect(exactJson(-(2n ** 70n))).toBe("-1180591620717411303424");
  });
});
