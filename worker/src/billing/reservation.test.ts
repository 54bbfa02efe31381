import { describe, expect, it } from "vitest";
import { fullBucket, perMinute, take, type Bucket } from "../limits/token-bucket.js";
import type { KeyLimits } from "./records.js";
import { decideReserve, hasAnyLimit, type AccountState } from "./reservation.js";

const T0 = 1_700_000_000_000;

/** A full per-minute bucket, or an empty one for no limit (which is never read). */
const full = (limit: number | null): Bucket =>
  limit === null ? { level: 0, at: T0 } : fullBucket(perMinute(limit), T0);

function account(limits: Partial<KeyLimits>, over: Partial<AccountState> = {}): AccountState {
  const l: KeyLimits = { budget: null, rpm: null, tpm: null, ...limits };
  return {
    limits: l,
    spent: 0,
    reserved: 0,
    requests: full(l.rpm),
    tokens: full(l.tpm),
    ...over,
  };
}

const req = (amount: number, tokens: number, request_id = "r1") => ({ request_id, amount, tokens });

describe("decideReserve", () => {
  it("lets an unlimited key through without headers", () => {
    expect(hasAnyLimit({ budget: null, rpm: null, tpm: null })).toBe(false);
    expect(hasAnyLimit({ budget: 0, rpm: null, tpm: null })).toBe(true);
    const d = decideReserve(account({}), req(1_000_000, 50_000), null, T0);
    expect(d).toMatchObject({ ok: true, hold: { amount: 1_000_000, tokens: 0 }, result: { ok: true, headers: {} } });
  });

  it("holds the worst case against the budget, counting what is spent and what others hold", () => {
    const state = account({ budget: 100 }, { spent: 40, reserved: 50 });
    expect(decideReserve(state, req(10, 1), null, T0).ok).toBe(true);
    const refused = decideReserve(state, req(11, 1), null, T0);
    expect(refused.result).toMatchObject({ ok: false, code: "insufficient_quota", retryAfterSeconds: null });
    if (refused.result.ok) return;
    expect(refused.result.message).toMatch(/^You exceeded your current quota/);
    expect(refused.result.message).toContain("10 of its 100 budget left");
  });

  it("lets a request that can cost nothing through even when an answer overran the budget", () => {
    expect(decideReserve(account({ budget: 100 }, { spent: 120 }), req(0, 10), null, T0).ok).toBe(true);
  });

  it("counts requests per minute and answers OpenAI's headers for the limits the key has", () => {
    const d = decideReserve(account({ rpm: 3, tpm: 1_000 }), req(0, 100), null, T0);
    expect(d.ok).toBe(true);
    expect(d.result.headers).toEqual({
      "x-ratelimit-limit-requests": "3",
      "x-ratelimit-remaining-requests": "2",
      "x-ratelimit-reset-requests": "20s",
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "900",
      "x-ratelimit-reset-tokens": "6s",
    });
    expect(Object.keys(decideReserve(account({ tpm: 10 }), req(0, 1), null, T0).result.headers)).toEqual([
      "x-ratelimit-limit-tokens",
      "x-ratelimit-remaining-tokens",
      "x-ratelimit-reset-tokens",
    ]);
  });

  it("refuses past the rpm with the wait until a request is free", () => {
    const used = take(full(3), perMinute(3), 3, T0);
    if (!used.ok) throw new Error("should fit");
    const d = decideReserve(account({ rpm: 3 }, { requests: used.bucket }), req(0, 1), null, T0 + 5_000);
    expect(d.result).toMatchObject({ ok: false, code: "rate_limit_exceeded", retryAfterSeconds: 15 });
    if (d.result.ok) return;
    expect(d.result.message).toBe(
      "Rate limit reached for this API key on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try " +
        "again in 15s.",
    );
    expect(d.result.headers["x-ratelimit-remaining-requests"]).toBe("0");
  });

  it("refuses past the tpm with the wait, and a request larger than the tpm with no wait at all", () => {
    const used = take(full(1_000), perMinute(1_000), 900, T0);
    if (!used.ok) throw new Error("should fit");
    const d = decideReserve(account({ tpm: 1_000 }, { tokens: used.bucket }), req(0, 400), null, T0);
    // 300 tokens short at 1,000 a minute: 18 s.
    expect(d.result).toMatchObject({ ok: false, code: "rate_limit_exceeded", retryAfterSeconds: 18 });
    const huge = decideReserve(account({ tpm: 1_000 }), req(0, 1_001), null, T0);
    expect(huge.result).toMatchObject({ ok: false, code: "rate_limit_exceeded", retryAfterSeconds: null });
    if (huge.result.ok) return;
    expect(huge.result.message).toMatch(/^Request too large .* Limit 1000, Requested 1001/);
  });

  it("checks the budget first, then rpm, then tpm, and a refusal takes nothing", () => {
    const noRequests = take(full(1), perMinute(1), 1, T0);
    if (!noRequests.ok) throw new Error("should fit");
    const broke = account({ budget: 0, rpm: 1, tpm: 10 }, { requests: noRequests.bucket });
    expect(decideReserve(broke, req(1, 100), null, T0).result).toMatchObject({ code: "insufficient_quota" });
    expect(
      decideReserve({ ...broke, limits: { ...broke.limits, budget: null } }, req(1, 100), null, T0).result,
    ).toMatchObject({ code: "rate_limit_exceeded", retryAfterSeconds: 60 });
    // The request fits the rpm but not the tpm: the headers show the request was not counted.
    const tpmOnly = decideReserve(account({ rpm: 5, tpm: 10 }), req(0, 11), null, T0);
    expect(tpmOnly.result.headers["x-ratelimit-remaining-requests"]).toBe("5");
  });

  it("raises an existing reservation by checking and taking only the increase, counting no new request", () => {
    const state = account({ budget: 100, rpm: 1, tpm: 1_000 }, { spent: 0, reserved: 50 });
    const noRequests = take(state.requests, perMinute(1), 1, T0);
    if (!noRequests.ok) throw new Error("should fit");
    const again = { ...state, requests: noRequests.bucket };
    const raised = decideReserve(again, req(70, 150), { amount: 50, tokens: 100 }, T0);
    expect(raised).toMatchObject({ ok: true, hold: { amount: 70, tokens: 150 } });
    if (!raised.ok) return;
    expect(raised.result.headers["x-ratelimit-remaining-tokens"]).toBe("950");
    // The increase (51) does not fit the 50 left.
    expect(decideReserve(again, req(101, 100), { amount: 50, tokens: 100 }, T0).result).toMatchObject({
      code: "insufficient_quota",
    });
    // Never lowered: a cheaper retry keeps holding the larger amount.
    expect(decideReserve(again, req(10, 10), { amount: 50, tokens: 100 }, T0)).toMatchObject({
      ok: true,
      hold: { amount: 50, tokens: 100 },
    });
  });
});
