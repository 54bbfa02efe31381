import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Batcher } from "./batcher.js";

const env = {} as Env;

describe("Batcher", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends a busy stream of items one batch a delay, not one a round trip", async () => {
    const writes: number[][] = [];
    const batcher = new Batcher<number>({
      delayMs: 200,
      maxItems: 500,
      async write(items) {
        writes.push(items);
        // A 10 ms round trip, during which more items arrive.
        await new Promise((resolve) => setTimeout(resolve, 10));
      },
    });
    const pending: Promise<unknown>[] = [];
    const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p) };
    // One item every 5 ms for a second: 200 items.
    for (let i = 0; i < 200; i++) {
      batcher.add(i, env, ctx);
      await vi.advanceTimersByTimeAsync(5);
    }
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(pending);
    expect(writes.flat()).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // About a second of items at one write per 200 ms (plus the tail): not one per 10 ms round trip.
    expect(writes.length).toBeLessThanOrEqual(7);
  });

  it("writes a backlog of full batches back to back", async () => {
    const writes: number[][] = [];
    const batcher = new Batcher<number>({
      delayMs: 200,
      maxItems: 10,
      async write(items) {
        writes.push(items);
      },
    });
    const pending: Promise<unknown>[] = [];
    const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p) };
    for (let i = 0; i < 35; i++) batcher.add(i, env, ctx);
    await vi.advanceTimersByTimeAsync(199);
    expect(writes).toEqual([]);
    // After the delay, three full batches at once; the remnant of 5 waits another delay.
    await vi.advanceTimersByTimeAsync(1);
    expect(writes.map((w) => w.length)).toEqual([10, 10, 10]);
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(pending);
    expect(writes.map((w) => w.length)).toEqual([10, 10, 10, 5]);
  });
});
