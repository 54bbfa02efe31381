import { describe, expect, it } from "vitest";
import { DEFAULT_HEARTBEAT_LIMIT, heartbeatRateLimit, takeToken, type TokenBucket } from "./token-bucket.js";

const limit = { perMinute: 60, burst: 3 };

describe("token bucket", () => {
  it("allows a burst, then refuses until a token refills", () => {
    let bucket: TokenBucket = { tokens: 3, at: 0 };
    for (let i = 0; i < 3; i++) {
      const r = takeToken(bucket, limit, 0);
      if (!r.ok) throw new Error("refused within the burst");
      bucket = r.bucket;
    }
    expect(takeToken(bucket, limit, 0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(takeToken(bucket, limit, 999).ok).toBe(false);
    expect(takeToken(bucket, limit, 1000)).toEqual({ ok: true, bucket: { tokens: 0, at: 1000 } });
  });

  it("never holds more than the burst, however long it was idle", () => {
    const r = takeToken({ tokens: 0, at: 0 }, limit, 10 * 60_000);
    expect(r).toEqual({ ok: true, bucket: { tokens: 2, at: 600_000 } });
  });

  it("says how long to wait at slow rates, in whole seconds", () => {
    expect(takeToken({ tokens: 0, at: 0 }, { perMinute: 2, burst: 1 }, 0)).toEqual({
      ok: false,
      retryAfterSeconds: 30,
    });
  });

  it("ignores a clock that went backwards", () => {
    expect(takeToken({ tokens: 0.5, at: 5000 }, limit, 4000)).toEqual({ ok: false, retryAfterSeconds: 1 });
  });
});

describe("heartbeat rate limit setting", () => {
  it.each([
    [undefined, DEFAULT_HEARTBEAT_LIMIT],
    ["120/20", { perMinute: 120, burst: 20 }],
    [" 30 / 5 ", { perMinute: 30, burst: 5 }],
    ["0/5", DEFAULT_HEARTBEAT_LIMIT],
    ["fast", DEFAULT_HEARTBEAT_LIMIT],
    ["60/0", DEFAULT_HEARTBEAT_LIMIT],
  ])("%s → %o", (value, expected) => {
    expect(heartbeatRateLimit({ HEARTBEAT_RATE_LIMIT: value })).toEqual(expected);
  });
});
