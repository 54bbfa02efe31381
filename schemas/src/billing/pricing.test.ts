import { describe, expect, it } from "vitest";
import { clientCost, FREE, gatewayFee, nodeAmount } from "./pricing.js";

const tokens = (prompt_tokens: number, completion_tokens: number) => ({ prompt_tokens, completion_tokens });

describe("nodeAmount", () => {
  it("charges tokens × price per million, exactly when it divides", () => {
    expect(nodeAmount(tokens(1_000_000, 2_000_000), { prompt: 3, completion: 5 })).toBe(13);
    expect(nodeAmount(tokens(1_500, 500), { prompt: 2_000_000, completion: 6_000_000 })).toBe(6_000);
  });

  it("rounds a fraction of a micro-unit up, never down", () => {
    expect(nodeAmount(tokens(1, 0), { prompt: 1, completion: 0 })).toBe(1);
    expect(nodeAmount(tokens(1_000_001, 0), { prompt: 1, completion: 0 })).toBe(2);
    // Rounded once over the sum, not per part: 0.5 + 0.5 is one micro-unit, not two.
    expect(nodeAmount(tokens(1, 1), { prompt: 500_000, completion: 500_000 })).toBe(1);
  });

  it("is zero for a free model or no tokens", () => {
    expect(nodeAmount(tokens(123_456, 7_890), FREE)).toBe(0);
    expect(nodeAmount(tokens(0, 0), { prompt: 1e12, completion: 1e12 })).toBe(0);
  });

  it("stays exact at the largest prices and token counts, where doubles would lose the remainder", () => {
    // 1e8 × 1e12 + 1 = 100000000000000000001 is not a double: Number arithmetic would round the +1 away.
    expect(nodeAmount(tokens(100_000_000, 1), { prompt: 1e12, completion: 1 })).toBe(100_000_000_000_001);
    expect(nodeAmount(tokens(100_000_000, 100_000_000), { prompt: 1e12, completion: 1e12 })).toBe(200_000_000_000_000);
    // ceil((99999999 × 999999999999 + 12345677 × 999999999997) / 1e6), by python3 integers.
    expect(nodeAmount(tokens(99_999_999, 12_345_677), { prompt: 999_999_999_999, completion: 999_999_999_997 })).toBe(
      112_345_675_999_863,
    );
  });
});

describe("gatewayFee and clientCost", () => {
  it("takes basis points of the node's amount, rounded up", () => {
    expect(gatewayFee(10_000, 500)).toBe(500);
    expect(gatewayFee(1, 500)).toBe(1);
    expect(gatewayFee(19, 500)).toBe(1);
    expect(gatewayFee(21, 500)).toBe(2);
    expect(gatewayFee(0, 500)).toBe(0);
    expect(gatewayFee(12_345, 0)).toBe(0);
    expect(gatewayFee(12_345, 10_000)).toBe(12_345);
  });

  it("stays exact where amount × bps passes 2^53", () => {
    // 9007199254740991 × 9999 / 10000 = 9006298534815516.0991 → …517; double arithmetic gives …516.
    expect(gatewayFee(Number.MAX_SAFE_INTEGER, 9_999)).toBe(9_006_298_534_815_517);
  });

  it("clientCost is the amount plus the fee", () => {
    expect(clientCost(10_000, 500)).toBe(10_500);
    expect(clientCost(1, 500)).toBe(2);
    expect(clientCost(0, 500)).toBe(0);
    expect(clientCost(200_000_000_000_001, 500)).toBe(210_000_000_000_002);
  });
});
