import { describe, expect, it } from "vitest";
import { HttpError } from "../http/http-error.js";
import type { KeyLimits, Reservation, ReserveResult } from "./records.js";
import { RequestBudget, type ReservingAccount } from "./request-budget.js";

class FakeAccount implements ReservingAccount {
  reserved: Reservation[] = [];
  released: string[] = [];
  constructor(private readonly answer: (r: Reservation) => ReserveResult = () => ({ ok: true, headers: { "x-ratelimit-limit-requests": "10" } })) {}
  async reserve(r: Reservation): Promise<ReserveResult> {
    this.reserved.push(r);
    return this.answer(r);
  }
  async release(ids: string[]): Promise<void> {
    this.released.push(...ids);
  }
}

const NO_LIMITS: KeyLimits = { budget: null, rpm: null, tpm: null };
const price = { prompt: 1_000_000, completion: 2_000_000 };

function budgetFor(limits: KeyLimits, account: FakeAccount, body: Record<string, unknown> = { max_tokens: 100 }) {
  return new RequestBudget({ requestId: "req_1", limits, account: () => account, body, bodyBytes: 400, generates: true, defaultCap: 1_000, feeBps: 0 });
}

describe("RequestBudget", () => {
  it("never calls the account for a key without limits, and adds no cap", async () => {
    const account = new FakeAccount();
    const budget = budgetFor(NO_LIMITS, account, {});
    await budget.cover(price, 0);
    expect(account.reserved).toEqual([]);
    expect(budget.addedCap).toBeNull();
    expect(budget.release(0)).toBeNull();
  });

  it("reserves the worst case at the node's price once, and again only for a pricier node", async () => {
    const account = new FakeAccount();
    const budget = budgetFor({ budget: 1_000_000, rpm: null, tpm: null }, account);
    await budget.cover(price, 0);
    // 400 bytes × 1 + 100 × 2 = 600 micro-units; tokens for rate limits: 100 likely prompt tokens + 100.
    expect(account.reserved).toEqual([{ request_id: "req_1", amount: 600, tokens: 200 }]);
    await budget.cover({ prompt: 0, completion: 0 }, 0);
    await budget.cover(price, 0);
    expect(account.reserved).toHaveLength(1);
    await budget.cover({ prompt: 2_000_000, completion: 2_000_000 }, 0);
    expect(account.reserved.at(-1)).toEqual({ request_id: "req_1", amount: 1_000, tokens: 200 });
    expect(budget.headers).toEqual({ "x-ratelimit-limit-requests": "10" });
  });

  it("caps a budgeted request that named no cap, so its worst case is finite", async () => {
    const account = new FakeAccount();
    const budget = budgetFor({ budget: 10 ** 9, rpm: null, tpm: null }, account, {});
    expect(budget.addedCap).toBe(1_000);
    expect(budget.worstCase).toEqual({ promptTokens: 400, completionTokens: 1_000 });
  });

  it("reserves for every completion a request asks for (n, best_of), and counts them against tpm", async () => {
    const account = new FakeAccount();
    const budget = budgetFor({ budget: 10 ** 9, rpm: null, tpm: 10 ** 6 }, account, { max_tokens: 100, n: 3 });
    expect(budget.worstCase).toEqual({ promptTokens: 400, completionTokens: 300 });
    await budget.cover(price, 0);
    expect(account.reserved).toEqual([{ request_id: "req_1", amount: 400 + 600, tokens: 100 + 300 }]);
  });

  it("refuses, for a key with limits, a cap too large to reserve for, and asks the account nothing", async () => {
    const account = new FakeAccount();
    const err = await budgetFor({ budget: null, rpm: 10, tpm: null }, account, { max_tokens: 5_000_001, n: 2 }).cover(price, 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 400, param: "max_tokens", code: "invalid_value" });
    expect(account.reserved).toEqual([]);
    // Without limits nothing is reserved, so nothing is refused.
    await budgetFor(NO_LIMITS, account, { max_tokens: 2 ** 53 - 1 }).cover(price, 0);
  });

  it("re-reserves after a failover from a free node to one that costs something", async () => {
    const account = new FakeAccount();
    const budget = budgetFor({ budget: 10 ** 9, rpm: null, tpm: null }, account, { max_tokens: 0 });
    await budget.cover({ prompt: 0, completion: 0 }, 0);
    await budget.cover({ prompt: 2_500, completion: 0 }, 0);
    // 400 prompt tokens at 2,500 per million: 1 micro-unit, rounded up.
    expect(account.reserved.map((r) => r.amount)).toEqual([0, 1]);
  });

  it("turns a refusal into OpenAI's 429 with Retry-After and the rate-limit headers", async () => {
    const headers = { "x-ratelimit-remaining-requests": "0" };
    const rpm = new FakeAccount(() => ({ ok: false, code: "rate_limit_exceeded", message: "Rate limit reached for requests", retryAfterSeconds: 7, headers }));
    const err = await budgetFor({ budget: null, rpm: 1, tpm: null }, rpm).cover(price, 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 429, type: "rate_limit_error", code: "rate_limit_exceeded", headers: { ...headers, "retry-after": "7" } });

    const broke = new FakeAccount(() => ({ ok: false, code: "insufficient_quota", message: "You exceeded your current quota", retryAfterSeconds: null, headers: {} }));
    const quota = await budgetFor({ budget: 1, rpm: null, tpm: null }, broke).cover(price, 0).catch((e: unknown) => e);
    expect(quota).toMatchObject({ status: 429, type: "insufficient_quota", code: "insufficient_quota", headers: {} });
  });

  it("gives a held reservation back once, and nothing when none was held", async () => {
    const account = new FakeAccount();
    const budget = budgetFor({ budget: 10 ** 9, rpm: null, tpm: null }, account);
    expect(budget.release(0)).toBeNull();
    await budget.cover(price, 0);
    await budget.release(0);
    expect(budget.release(0)).toBeNull();
    expect(account.released).toEqual(["req_1"]);
  });
});
