import { describe, expect, it } from "vitest";
import { HttpError } from "../http/http-error.js";
import { orThrow, refusalHttpError } from "../http/refusal.js";
import type { KeyLimits, Reservation, ReserveResult } from "./records.js";
import { KeyPurse } from "./key-purse.js";
import { MemoryAccount } from "./memory-account.js";
import { affordableAt, RequestBudget, type NodeTerms, type ReservingAccount } from "./request-budget.js";
import { requestShape } from "./request-shape.js";
import { DEFAULT_CONTEXT_TOKENS, PROMPT_TEMPLATE_TOKENS } from "./token-bounds.js";

class FakeAccount implements ReservingAccount {
  reserved: Reservation[] = [];
  released: string[] = [];
  constructor(
    private readonly answer: (r: Reservation) => ReserveResult = () => ({
      ok: true,
      headers: { "x-ratelimit-limit-requests": "10" },
    }),
  ) {}
  async reserve(r: Reservation): Promise<ReserveResult> {
    this.reserved.push(r);
    return this.answer(r);
  }
  async release(ids: string[]): Promise<void> {
    this.released.push(...ids);
  }
}

const NO_LIMITS: KeyLimits = { budget: null, rpm: null, tpm: null };
const BUDGET: KeyLimits = { budget: 10 ** 9, rpm: null, tpm: null };
const price = { prompt: 1_000_000, completion: 2_000_000 };
const at = (p: NodeTerms["price"], contextLength: number | null = null): NodeTerms => ({ price: p, contextLength });
/** 400 bytes plus the template's headroom, at 1 micro-unit per prompt token. */
const PROMPT_COST = 400 + PROMPT_TEMPLATE_TOKENS;

/** As the route reads a cover: a refusal is thrown as the client's error. */
const cover = (budget: RequestBudget, terms: NodeTerms) => budget.cover(terms, 0).then(orThrow);

function budgetFor(limits: KeyLimits, account: FakeAccount, body: Record<string, unknown> = { max_tokens: 100 }) {
  return new RequestBudget({
    requestId: "req_1",
    limits,
    account: () => account,
    shape: requestShape(body, true),
    bodyBytes: 400,
    likelyCap: 1_000,
    feeBps: 0,
  });
}

describe("RequestBudget", () => {
  it("never calls the account for a key without limits", async () => {
    const account = new FakeAccount();
    const budget = budgetFor(NO_LIMITS, account, {});
    expect(await cover(budget, at(price))).toBe("held");
    expect(account.reserved).toEqual([]);
    expect(budget.reserved).toBeNull();
    expect(budget.release(0)).toBeNull();
  });

  it("reserves the worst case at the node's price once, and again only for a pricier node", async () => {
    const account = new FakeAccount();
    const budget = budgetFor({ budget: 1_000_000, rpm: null, tpm: null }, account);
    await cover(budget, at(price));
    // 656 prompt tokens × 1 + 100 × 2 = 856 micro-units; tokens for rate limits: 100 likely prompt tokens + 100.
    expect(account.reserved).toEqual([{ request_id: "req_1", amount: PROMPT_COST + 200, tokens: 200 }]);
    expect(budget.reserved).toBe(PROMPT_COST + 200);
    await cover(budget, at({ prompt: 0, completion: 0 }));
    await cover(budget, at(price));
    expect(account.reserved).toHaveLength(1);
    await cover(budget, at({ prompt: 2_000_000, completion: 2_000_000 }));
    expect(account.reserved.at(-1)).toEqual({ request_id: "req_1", amount: 2 * PROMPT_COST + 200, tokens: 200 });
    expect(budget.headers).toEqual({ "x-ratelimit-limit-requests": "10" });
  });

  it("admits from the key's purse in this isolate: names the slice, and settles the answer's cost there", async () => {
    const account = new MemoryAccount(BUDGET, 0);
    const purse = new KeyPurse({
      limits: BUDGET,
      account: () => account,
      newId: () => "slice-1",
      wait: () => new Promise<number>(() => {}),
    });
    const deferred: Promise<unknown>[] = [];
    const budgets = ["req_1", "req_2"].map(
      (requestId) =>
        new RequestBudget({
          requestId,
          limits: BUDGET,
          account: () => purse,
          shape: requestShape({ max_tokens: 100 }, true),
          bodyBytes: 400,
          likelyCap: 1_000,
          feeBps: 0,
          defer: (work) => deferred.push(work),
        }),
    );
    // Two at once: the second leases a slice (the first reserved on its own).
    await Promise.all(budgets.map((b) => cover(b, at(price))));
    expect(budgets.map((b) => b.sliceId)).toEqual([null, "slice-1"]);
    const held = account.reserved(0);
    account.record({ request_id: "req_2", cost: 10, total_tokens: 20, slice_id: "slice-1" }, 0);
    budgets[1]!.settle(10, 20, 0);
    expect(budgets[1]!.reserved).toBeNull();
    // Charged within the slice's hold, not on top of it.
    expect(account.spent).toBe(10);
    expect(account.committed(0)).toBe(held);
    // The purse's idle give-back is kept alive by the request that settled.
    expect(deferred).toHaveLength(1);
    budgets[1]!.settle(10, 20, 0);
    expect(deferred).toHaveLength(1);
  });

  it(
    "without a client cap, reserves for the node's context length (the default when it advertises none), and " +
      "changes no request",
    async () => {
      const account = new FakeAccount();
      const budget = budgetFor(BUDGET, account, {});
      await cover(budget, at(price, 4_096));
      expect(account.reserved.at(-1)?.amount).toBe(PROMPT_COST + 4_096 * 2);
      await cover(budget, at(price));
      expect(account.reserved.at(-1)?.amount).toBe(PROMPT_COST + DEFAULT_CONTEXT_TOKENS * 2);
    },
  );

  it("reserves for every completion a request asks for, and counts them against tpm", async () => {
    const account = new FakeAccount();
    const budget = budgetFor({ budget: 10 ** 9, rpm: null, tpm: 10 ** 6 }, account, { max_tokens: 100, n: 3 });
    await cover(budget, at(price));
    expect(account.reserved).toEqual([{ request_id: "req_1", amount: PROMPT_COST + 600, tokens: 100 + 300 }]);
  });

  it("refuses, for a key with limits, a cap too large to reserve for, and asks the account nothing", async () => {
    const account = new FakeAccount();
    const err = await cover(
      budgetFor({ budget: null, rpm: 10, tpm: null }, account, { max_tokens: 5_000_001, n: 2 }),
      at(price),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 400, param: "max_tokens", code: "invalid_value" });
    expect(account.reserved).toEqual([]);
    // Without limits nothing is reserved, so nothing is refused.
    await cover(budgetFor(NO_LIMITS, account, { max_tokens: 2 ** 53 - 1 }), at(price));
  });

  it("turns a rate-limit refusal into OpenAI's 429 with Retry-After and the rate-limit headers", async () => {
    const headers = { "x-ratelimit-remaining-requests": "0" };
    const rpm = new FakeAccount(() => ({
      ok: false,
      code: "rate_limit_exceeded",
      message: "Rate limit reached for requests",
      retryAfterSeconds: 7,
      headers,
    }));
    const err = await cover(budgetFor({ budget: null, rpm: 1, tpm: null }, rpm), at(price)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({
      status: 429,
      type: "rate_limit_error",
      code: "rate_limit_exceeded",
      headers: { ...headers, "retry-after": "7" },
    });
  });

  it(
    "passes over a node too dear for what is left, rules out its like without asking the account again, and keeps " +
      "the 429 for the end",
    async () => {
      expect(
        budgetFor({ budget: 5_000, rpm: null, tpm: null }, new FakeAccount(() => ({ ok: true, headers: {} }))).bound(),
      ).toBeNull();
      const broke = new FakeAccount((r) =>
        r.amount > 1_000
          ? {
              ok: false,
              code: "insufficient_quota",
              message: "You exceeded your current quota",
              retryAfterSeconds: null,
              headers: {},
              budgetLeft: 1_000,
            }
          : { ok: true, headers: {} },
      );
      const budget = budgetFor({ budget: 5_000, rpm: null, tpm: null }, broke);
      const dear = at({ prompt: 2_000_000, completion: 2_000_000 });
      expect(await cover(budget, dear)).toBe("unaffordable");
      expect(budget.affordable(dear)).toBe(false);
      expect(await cover(budget, at({ prompt: 3_000_000, completion: 0 }))).toBe("unaffordable");
      expect(broke.reserved).toHaveLength(1);
      const cheap = at({ prompt: 1_000_000, completion: 1_000_000 });
      expect(budget.affordable(cheap)).toBe(true);
      // A decider elsewhere (an admission cell) given the bound rules out the same nodes.
      const bound = budget.bound();
      expect(bound).not.toBeNull();
      expect(affordableAt(bound, dear)).toBe(false);
      expect(affordableAt(bound, cheap)).toBe(true);
      expect(await cover(budget, cheap)).toBe("held");
      const refused = budget.refused();
      expect(refused && refusalHttpError(refused)).toMatchObject({
        status: 429,
        type: "insufficient_quota",
        code: "insufficient_quota",
      });
    },
  );

  it("gives a held reservation back once, and nothing when none was held", async () => {
    const account = new FakeAccount();
    const budget = budgetFor(BUDGET, account);
    expect(budget.release(0)).toBeNull();
    await cover(budget, at(price));
    await budget.release(0);
    expect(budget.release(0)).toBeNull();
    expect(account.released).toEqual(["req_1"]);
  });
});
