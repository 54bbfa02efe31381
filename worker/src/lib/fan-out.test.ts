import { describe, expect, it } from "vitest";
import { mapLimit } from "./fan-out.js";

describe("mapLimit", () => {
  it("keeps at most `limit` calls in flight and returns results in input order", async () => {
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: 50 }, (_, i) => i);
    const results = await mapLimit(items, 4, async (i) => {
      most = Math.max(most, ++inFlight);
      // Finish out of order: later items sometimes first.
      for (let spin = (i * 7) % 5; spin > 0; spin--) await Promise.resolve();
      inFlight--;
      return i * 2;
    });
    expect(results).toEqual(items.map((i) => i * 2));
    expect(most).toBe(4);
  });

  it("handles no items, and fails when a call fails", async () => {
    expect(await mapLimit([], 16, async () => 1)).toEqual([]);
    await expect(
      mapLimit([1, 2], 2, async (i) => {
        if (i === 2) throw new Error("boom");
        return i;
      }),
    ).rejects.toThrow("boom");
  });
});
