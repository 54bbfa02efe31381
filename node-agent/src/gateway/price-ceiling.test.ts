import { afterEach, describe, expect, it } from "vitest";
import { startFakeGateway } from "../../test/fake-gateway.js";
import { startAgent } from "../agent.js";
import { generateIdentity } from "../identity/node-identity.js";
import { priceCeilingMessage, pricesOverCeiling } from "./price-ceiling.js";

const CEILINGS = {
  default: { prompt: 1_000_000, completion: 2_000_000 },
  models: { big: { prompt: 5_000_000, completion: 10_000_000 } },
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe("prices against the gateway's ceiling", () => {
  it("finds each price above its model's ceiling, or the default ceiling for other models", () => {
    const prices = new Map([
      ["small", { prompt: 1_000_000, completion: 2_000_000 }],
      ["other", { prompt: 1, completion: 2_000_001 }],
      ["big", { prompt: 5_000_000, completion: 9_000_000 }],
      ["bigger", { prompt: 5_000_000, completion: 9_000_000 }],
    ]);
    expect(pricesOverCeiling(prices, CEILINGS)).toEqual([
      { model: "other", price: { prompt: 1, completion: 2_000_001 }, ceiling: CEILINGS.default },
      { model: "bigger", price: { prompt: 5_000_000, completion: 9_000_000 }, ceiling: CEILINGS.default },
    ]);
    expect(pricesOverCeiling(prices, undefined)).toEqual([]);
  });

  it("names the model, its price and the ceiling, and what to do", () => {
    const message = priceCeilingMessage([
      { model: "other", price: { prompt: 1, completion: 2_000_001 }, ceiling: CEILINGS.default },
    ]);
    expect(message).toContain("other: --price other=1:2000001 is above the gateway's ceiling of 1000000:2000000");
    expect(message).toContain("--price at or below the ceiling");
  });
});

describe("starting under a gateway that publishes ceilings", () => {
  async function start(
    prices: Map<string, { prompt: number; completion: number }>,
  ): Promise<ReturnType<typeof startAgent>> {
    const gateway = await startFakeGateway({ priceCeilings: CEILINGS });
    closers.push(() => gateway.close());
    const starting = startAgent({
      identity: await generateIdentity(),
      gatewayUrl: gateway.url,
      upstreamUrl: "http://127.0.0.1:9",
      listenHost: "127.0.0.1",
      listenPort: 0,
      models: [{ id: "small" }, { id: "big" }],
      prices,
      capacity: 1,
      log: () => {},
    });
    void starting.then(
      (agent) => closers.push(() => agent.stop()),
      () => {},
    );
    return starting;
  }

  it("refuses to start with a price above the ceiling, naming it", async () => {
    await expect(start(new Map([["small", { prompt: 1_000_001, completion: 0 }]]))).rejects.toThrow(
      "small: --price small=1000001:0 is above the gateway's ceiling of 1000000:2000000",
    );
  });

  it("starts with prices within each model's ceiling", async () => {
    const agent = await start(new Map([["big", { prompt: 5_000_000, completion: 10_000_000 }]]));
    expect(agent.models).toEqual([
      { id: "small" },
      { id: "big", price: { prompt: 5_000_000, completion: 10_000_000 } },
    ]);
  });
});
