import { describe, expect, it } from "vitest";
import {
  available,
  fullBucket,
  HOUR_MS,
  MINUTE_MS,
  msUntilFull,
  parseRateLimit,
  perMinute,
  rateLimit,
  reconcile,
  refill,
  refund,
  resize,
  retryAfterSeconds,
  take,
  type Bucket,
  type RateLimit,
} from "./token-bucket.js";

const T0 = 1_700_000_000_000;

/** One token, at `limit`'s scale. */
const token = (limit: RateLimit) => limit.periodMs;

/** Takes one token, which must be there. */
function takeOne(bucket: Bucket, limit: RateLimit, now: number): Bucket {
  const r = take(bucket, limit, 1, now);
  if (!r.ok) throw new Error("refused");
  return r.bucket;
}

describe("a burst and a refill rate (heartbeats, registrations)", () => {
  const limit: RateLimit = { refill: 60, periodMs: MINUTE_MS, burst: 3 };

  it("allows a burst, then refuses until a token refills", () => {
    let bucket = fullBucket(limit, 0);
    for (let i = 0; i < 3; i++) bucket = takeOne(bucket, limit, 0);
    expect(take(bucket, limit, 1, 0)).toEqual({ ok: false, waitMs: 1_000 });
    expect(take(bucket, limit, 1, 999).ok).toBe(false);
    expect(take(bucket, limit, 1, 1_000)).toEqual({ ok: true, bucket: { level: 0, at: 1_000 } });
  });

  it("never holds more than the burst, however long it was idle", () => {
    expect(take({ level: 0, at: 0 }, limit, 1, 10 * MINUTE_MS)).toEqual({
      ok: true,
      bucket: { level: 2 * token(limit), at: 600_000 },
    });
  });

  it("says how long to wait at slow rates, in whole seconds", () => {
    const twoAMinute: RateLimit = { refill: 2, periodMs: MINUTE_MS, burst: 1 };
    expect(take({ level: 0, at: 0 }, twoAMinute, 1, 0)).toEqual({ ok: false, waitMs: 30_000 });
    expect(retryAfterSeconds(30_000)).toBe(30);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(0)).toBe(1);
  });

  it("counts an hourly rate exactly: 20 an hour is one every 3 minutes, to the millisecond", () => {
    const hourly: RateLimit = { refill: 20, periodMs: HOUR_MS, burst: 10 };
    const empty = { level: 0, at: T0 };
    expect(take(empty, hourly, 1, T0)).toEqual({ ok: false, waitMs: 180_000 });
    expect(take(empty, hourly, 1, T0 + 179_999).ok).toBe(false);
    expect(take(empty, hourly, 1, T0 + 180_000)).toEqual({ ok: true, bucket: { level: 0, at: T0 + 180_000 } });
  });

  it("ignores a clock that went backwards", () => {
    const half = { level: token(limit) / 2, at: 5_000 };
    expect(take(half, limit, 1, 4_000)).toEqual({ ok: false, waitMs: 500 });
    expect(refill(half, limit, 4_000)).toEqual(half);
  });
});

describe("per-minute limits (an API key's requests and tokens)", () => {
  it("start full and refill by the limit every minute, exactly, however often they are refilled", () => {
    const sixty = perMinute(60);
    const empty = { level: 0, at: T0 };
    expect(available(fullBucket(sixty, T0), sixty, T0)).toBe(60);
    // 60 per minute is one a second: 1,000 refills of 1 ms make exactly one token.
    let b = empty;
    for (let t = 1; t <= 1_000; t++) b = refill(b, sixty, T0 + t);
    expect(b.level).toBe(token(sixty));
    expect(available(empty, sixty, T0 + 30_000)).toBe(30);
    expect(available(empty, sixty, T0 + 10 * MINUTE_MS)).toBe(60);
  });

  it("take what is there, or say how long until it will be; more than the limit never fits", () => {
    const three = perMinute(3);
    const one = take(fullBucket(three, T0), three, 3, T0);
    expect(one.ok).toBe(true);
    if (!one.ok) return;
    // 3 a minute: one token every 20 s.
    expect(take(one.bucket, three, 1, T0)).toEqual({ ok: false, waitMs: 20_000 });
    expect(take(one.bucket, three, 1, T0 + 5_000)).toEqual({ ok: false, waitMs: 15_000 });
    expect(take(one.bucket, three, 1, T0 + 20_000).ok).toBe(true);
    expect(take(fullBucket(three, T0), three, 4, T0)).toEqual({ ok: false, waitMs: null });
  });

  it("put refunded tokens back, never past full", () => {
    const hundred = perMinute(100);
    const taken = take(fullBucket(hundred, T0), hundred, 80, T0);
    if (!taken.ok) throw new Error("should fit");
    expect(available(refund(taken.bucket, hundred, 30, T0), hundred, T0)).toBe(50);
    expect(available(refund(taken.bucket, hundred, 500, T0), hundred, T0)).toBe(100);
  });

  it("time the reset until full", () => {
    const ten = perMinute(10);
    expect(msUntilFull(fullBucket(ten, T0), ten, T0)).toBe(0);
    // 10 a minute refills 1 in 6 s; 3 taken are back in 18 s.
    const taken = take(fullBucket(ten, T0), ten, 3, T0);
    if (!taken.ok) throw new Error("should fit");
    expect(msUntilFull(taken.bucket, ten, T0)).toBe(18_000);
    expect(msUntilFull(taken.bucket, ten, T0 + 6_000)).toBe(12_000);
  });

  it(
    "resize: a new limit starts full, a lowered one keeps at most the new limit, a raised one hands out no " + "burst",
    () => {
      expect(available(resize({ level: 0, at: 0 }, null, perMinute(5), T0), perMinute(5), T0)).toBe(5);
      expect(
        available(resize(fullBucket(perMinute(100), T0), perMinute(100), perMinute(10), T0), perMinute(10), T0),
      ).toBe(10);
      const half = take(fullBucket(perMinute(10), T0), perMinute(10), 5, T0);
      if (!half.ok) throw new Error("should fit");
      expect(available(resize(half.bucket, perMinute(10), perMinute(1_000), T0), perMinute(1_000), T0)).toBe(5);
      expect(resize(half.bucket, perMinute(10), null, T0)).toEqual({ level: 0, at: T0 });
    },
  );

  it("reconcile: unused tokens go back, an overage is taken too, below zero, and paid off by waiting", () => {
    const hundred = perMinute(100);
    const taken = take(fullBucket(hundred, T0), hundred, 40, T0);
    if (!taken.ok) throw new Error("should fit");
    expect(available(reconcile(taken.bucket, hundred, 40, 10, T0), hundred, T0)).toBe(90);
    // 40 held, 190 used: 150 more go, 90 below empty. None remain, and 10 tokens need 90 + 10 refilled: a minute.
    const over = reconcile(taken.bucket, hundred, 40, 190, T0);
    expect(over.level).toBe(-90 * token(hundred));
    expect(available(over, hundred, T0)).toBe(0);
    expect(take(over, hundred, 10, T0)).toEqual({ ok: false, waitMs: 60_000 });
    expect(available(over, hundred, T0 + 60_000)).toBe(10);
    // Longer than a minute below full: still refilled at the limit's rate, not jumped to full.
    expect(msUntilFull(over, hundred, T0)).toBe(114_000);
    expect(available(over, hundred, T0 + 114_000 - 600)).toBe(99);
    expect(available(over, hundred, T0 + 114_000)).toBe(100);
  });

  it("forgive an overage past what can be counted exactly, and stay exact refilling from there", () => {
    const most = perMinute(1_000_000_000);
    const over = reconcile(fullBucket(most, T0), most, 0, Number.MAX_SAFE_INTEGER, T0);
    expect(over.level).toBe(-(2 ** 52));
    const later = refill(over, most, T0 + 10 * HOUR_MS);
    expect(Number.isSafeInteger(later.level) && later.level <= 1_000_000_000 * MINUTE_MS).toBe(true);
  });
});

describe("limits", () => {
  it("are positive whole numbers small enough to count in whole units", () => {
    expect(rateLimit(20, HOUR_MS, 10)).toEqual({ refill: 20, periodMs: HOUR_MS, burst: 10 });
    expect(rateLimit(0, MINUTE_MS, 1)).toBeNull();
    expect(rateLimit(1.5, MINUTE_MS, 1)).toBeNull();
    expect(rateLimit(1, MINUTE_MS, 2 ** 40)).toBeNull();
    expect(() => perMinute(0)).toThrow(RangeError);
  });

  it("parse from <refill>/<burst>", () => {
    expect(parseRateLimit(" 30 / 5 ", MINUTE_MS)).toEqual({ refill: 30, periodMs: MINUTE_MS, burst: 5 });
    expect(parseRateLimit("30", MINUTE_MS)).toBeNull();
    expect(parseRateLimit(undefined, MINUTE_MS)).toBeNull();
  });
});
