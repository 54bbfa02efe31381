import { describe, expect, it } from "vitest";
import { catalogModels, MAX_CATALOG_MODELS, perTokenDecimal, type CatalogNode } from "./model-catalog.js";

const price = (prompt: number, completion: number) => ({ prompt, completion });
const node = (registered: number, offers: CatalogNode["offers"]): CatalogNode => ({ registered, offers });
const noLatency = () => null;

describe("perTokenDecimal", () => {
  it.each([
    [0, "0"],
    [1, "0.000000000001"],
    [200_000, "0.0000002"],
    [700_000, "0.0000007"],
    [1_000_000_000_000, "1"],
    [1_500_000_000_000, "1.5"],
    [10_000_000, "0.00001"],
  ])("%i micro-units per million tokens is %s per token", (micros, text) => {
    expect(perTokenDecimal(micros)).toBe(text);
  });
});

describe("catalogModels", () => {
  it("lists a bounded number of models, those most nodes serve, however many made-up names nodes advertise", () => {
    // 40 nodes of 256 made-up names each (what a node may advertise) besides two real models.
    const made = Array.from({ length: 40 }, (_, n) =>
      node(
        1_000,
        Array.from({ length: 256 }, (_, i) => ({ id: `junk-${n}-${i}`, price: null })),
      ),
    );
    const real = Array.from({ length: 3 }, () =>
      node(1_000, [
        { id: "llama", price: null },
        { id: "qwen", price: null },
      ]),
    );
    const asked: string[] = [];
    const models = catalogModels([...made, ...real], (model) => {
      asked.push(model);
      return null;
    });
    expect(models).toHaveLength(MAX_CATALOG_MODELS);
    expect(models.map((m) => m.id)).toEqual(expect.arrayContaining(["llama", "qwen"]));
    expect(models.map((m) => m.id)).toEqual([...models.map((m) => m.id)].sort());
    // The latency of a model left out is not worked out.
    expect(asked).toHaveLength(MAX_CATALOG_MODELS);
  });

  it("counts the nodes serving each model and keeps the earliest registration, sorted by id", () => {
    const models = catalogModels(
      [
        node(5_000, [{ id: "b", price: null }]),
        node(2_000, [
          { id: "a", price: null, owned_by: "acme" },
          { id: "b", price: null },
        ]),
      ],
      noLatency,
    );
    expect(models.map((m) => [m.id, m.nodes, m.created, m.owned_by])).toEqual([
      ["a", 1, 2, "acme"],
      ["b", 2, 2, "meshgate"],
    ]);
  });

  it("names the owner most of a model's nodes name, so one node cannot relabel it", () => {
    const offer = (owned_by: string) => [{ id: "m", price: null, owned_by }];
    const [m] = catalogModels([node(0, offer("openai")), node(1, offer("meta")), node(2, offer("meta"))], noLatency);
    expect(m!.owned_by).toBe("meta");
  });

  it("prices a model at the median of its nodes, so one node's extreme price barely moves it", () => {
    const offers = (p: number) => [{ id: "m", price: price(p, 2 * p) }];
    const [m] = catalogModels(
      [node(0, offers(100_000)), node(0, offers(200_000)), node(0, offers(1_000_000_000_000))],
      noLatency,
    );
    expect(m!.pricing).toEqual({
      prompt: "0.0000002",
      completion: "0.0000004",
      usd_per_million: { prompt: 0.2, completion: 0.4 },
      micro_units_per_million: { prompt: 200_000, completion: 400_000 },
    });
  });

  it("counts a free node's price as zero", () => {
    const [m] = catalogModels([node(0, [{ id: "m", price: null }])], noLatency);
    expect(m!.pricing.micro_units_per_million).toEqual({ prompt: 0, completion: 0 });
    expect(m!.pricing.prompt).toBe("0");
  });

  it("states the median context length of the nodes that state one, or null", () => {
    const models = catalogModels(
      [
        node(0, [
          { id: "m", price: null, context_length: 8_192 },
          { id: "n", price: null },
        ]),
        node(0, [{ id: "m", price: null, context_length: 1_000_000 }]),
        node(0, [{ id: "m", price: null, context_length: 4_096 }]),
      ],
      noLatency,
    );
    expect(models.map((m) => [m.id, m.context_length])).toEqual([
      ["m", 8_192],
      ["n", null],
    ]);
  });

  it("takes the time to first token from the gateway's measurement", () => {
    const [m] = catalogModels([node(0, [{ id: "m", price: null }])], (model) => (model === "m" ? 42 : null));
    expect(m!.ttft_ms_p50).toBe(42);
  });
});
