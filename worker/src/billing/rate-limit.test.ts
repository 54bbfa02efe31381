import { describe, expect, it } from "vitest";
import {
  fullBucket,
  giveBack,
  msUntilFull,
  refill,
  remaining,
  resize,
  settleTaken,
  take,
  UNITS_PER_TOKEN,
} from "./rate-limit.js";

const T0 = 1_700_000_000_000;

describe("per-minute token buckets", () => {
  it("start full and refill by the limit every minute, exactly, however often they are refilled", () => {
    const empty = { level: 0, at: T0 };
    expect(remaining(fullBucket(60, T0), 60, T0)).toBe(60);
    // 60 per minute is one a second: 1,000 refills of 1 ms make exactly one token.
    let b = empty;
    for (let t = 1; t <= 1_000; t++) b = refill(b, 60, T0 + t);
    expect(b.level).toBe(UNITS_PER_TOKEN);
    expect(remaining(empty, 60, T0 + 30_000)).toBe(30);
    expect(remaining(empty, 60, T0 + 10 * 60_000)).toBe(60);
  });

  it("take what is there, or say how long until it will be; more than the limit never fits", () => {
    const one = take(fullBucket(3, T0), 3, 3, T0);
    expect(one.ok).toBe(true);
    if (!one.ok) return;
    // 3 a minute: one token every 20 s.
    expect(take(one.bucket, 3, 1, T0)).toEqual({ ok: false, waitMs: 20_000 });
    expect(take(one.bucket, 3, 1, T0 + 5_000)).toEqual({ ok: false, waitMs: 15_000 });
    expect(take(one.bucket, 3, 1, T0 + 20_000).ok).toBe(true);
    expect(take(fullBucket(3, T0), 3, 4, T0)).toEqual({ ok: false, waitMs: null });
  });

  it("ignore a clock that went back", () => {
    const b = { level: 0, at: T0 };
    expect(refill(b, 60, T0 - 5_000)).toEqual(b);
  });

  it("take tokens back, never past full", () => {
    const taken = take(fullBucket(100, T0), 100, 80, T0);
    if (!taken.ok) throw new Error("should fit");
    expect(remaining(giveBack(taken.bucket, 100, 30, T0), 100, T0)).toBe(50);
    expect(remaining(giveBack(taken.bucket, 100, 500, T0), 100, T0)).toBe(100);
  });

  it("time the reset until full", () => {
    expect(msUntilFull(fullBucket(10, T0), 10, T0)).toBe(0);
    // 10 a minute refills 1 in 6 s; 3 taken are back in 18 s.
    const taken = take(fullBucket(10, T0), 10, 3, T0);
    if (!taken.ok) throw new Error("should fit");
    expect(msUntilFull(taken.bucket, 10, T0)).toBe(18_000);
    expect(msUntilFull(taken.bucket, 10, T0 + 6_000)).toBe(12_000);
  });

  it("resize: a new limit starts full, a lowered one keeps at most the new limit, a raised one hands out no burst", () => {
    expect(remaining(resize({ level: 0, at: 0 }, null, 5, T0), 5, T0)).toBe(5);
    expect(remaining(resize(fullBucket(100, T0), 100, 10, T0), 10, T0)).toBe(10);
    const half = take(fullBucket(10, T0), 10, 5, T0);
    if (!half.ok) throw new Error("should fit");
    expect(remaining(resize(half.bucket, 10, 1_000, T0), 1_000, T0)).toBe(5);
  });

  it("settle: unused tokens go back, an overage is taken too, below zero, and paid off by waiting", () => {
    const taken = take(fullBucket(100, T0), 100, 40, T0);
    if (!taken.ok) throw new Error("should fit");
    expect(remaining(settleTaken(taken.bucket, 100, 40, 10, T0), 100, T0)).toBe(90);
    // 40 held, 190 used: 150 more go, 90 below empty. None remain, and 10 tokens need 90 + 10 refilled: a minute.
    const over = settleTaken(taken.bucket, 100, 40, 190, T0);
    expect(over.level).toBe(-90 * UNITS_PER_TOKEN);
    expect(remaining(over, 100, T0)).toBe(0);
    expect(take(over, 100, 10, T0)).toEqual({ ok: false, waitMs: 60_000 });
    expect(remaining(over, 100, T0 + 60_000)).toBe(10);
    // Longer than a minute below full: still refilled at the limit's rate, not jumped to full.
    expect(msUntilFull(over, 100, T0)).toBe(114_000);
    expect(remaining(over, 100, T0 + 114_000 - 600)).toBe(99);
    expect(remaining(over, 100, T0 + 114_000)).toBe(100);
  });
});
