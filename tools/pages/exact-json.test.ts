import { describe, expect, it } from "vitest";
import { parseExactJson } from "../../worker/public/pages/exact-json.js";

describe("reading the usage API's exact integers", () => {
  it("keeps an integer beyond 2^53 exact, as a BigInt", () => {
    expect(parseExactJson('{"cost": 123456789012345678901, "requests": 3}')).toEqual({
      cost: 123456789012345678901n,
      requests: 3,
    });
  });

  it("leaves digits inside strings, decimals and small integers as JSON.parse reads them", () => {
    const text = '{"model": "m-99999999999999999999\\"x", "price": 12345678901234567.5, "n": [-2, 9007199254740991]}';
    expect(parseExactJson(text)).toEqual(JSON.parse(text));
  });

  it("reads a negative big integer, and a string that looks like its marker stays a string", () => {
    expect(parseExactJson('[-99999999999999999999, "#exact:1", "##exact:2"]')).toEqual([
      -99999999999999999999n,
      "#exact:1",
      "##exact:2",
    ]);
  });
});
