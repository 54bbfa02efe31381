import { describe, expect, it } from "vitest";
import { ceilingFor, priceWithin } from "@meshgate/schemas";
import { DEFAULT_PRICE_CEILING, parsePriceCeilings } from "./price-ceiling.js";

describe("parsePriceCeilings", () => {
  it("uses the built-in default when nothing is configured", () => {
    expect(parsePriceCeilings(undefined)).toEqual({ default: DEFAULT_PRICE_CEILING, models: {} });
    expect(parsePriceCeilings("  ")).toEqual({ default: DEFAULT_PRICE_CEILING, models: {} });
  });

  it("reads a default and per-model ceilings in the agent's --price form", () => {
    const parsed = parsePriceCeilings("*=1000:3000, llama3.1:8b=200:600,org/model=with=eq=5:6");
    expect(parsed).toEqual({
      default: { prompt: 1_000, completion: 3_000 },
      models: { "llama3.1:8b": { prompt: 200, completion: 600 }, "org/model=with=eq": { prompt: 5, completion: 6 } },
    });
    if ("error" in parsed) throw new Error(parsed.error);
    expect(ceilingFor(parsed, "llama3.1:8b")).toEqual({ prompt: 200, completion: 600 });
    expect(ceilingFor(parsed, "other")).toEqual({ prompt: 1_000, completion: 3_000 });
    // An inherited property name is a model like any other.
    expect(ceilingFor(parsed, "constructor")).toEqual({ prompt: 1_000, completion: 3_000 });
    expect(priceWithin({ prompt: 200, completion: 600 }, ceilingFor(parsed, "llama3.1:8b"))).toBe(true);
    expect(priceWithin({ prompt: 200, completion: 601 }, ceilingFor(parsed, "llama3.1:8b"))).toBe(false);
  });

  it("says what is wrong rather than guess", () => {
    for (const bad of ["*=1:2:3", "=1:2", "m=1", "m=-1:2", "m=1.5:2", "m=1e3:2", "m=1:10000000000000", "m=1:2,m=3:4"]) {
      expect(parsePriceCeilings(bad)).toHaveProperty("error");
    }
  });
});
