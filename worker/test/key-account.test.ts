import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Earning, KeyLimits, ReserveResult, UsageEntry } from "../src/billing/records.js";
import { RESERVATION_TTL_MS } from "../src/billing/reservation.js";
import type { UsageQuery } from "../src/billing/usage-report.js";
import type { Dimension } from "../src/billing/usage-sums.js";
import { KeyAccount } from "../src/durable/key-account/key-account.js";
import { earningsShard, earningsShardOf, earningsShards, keyAccount } from "../src/durable/names.js";
import { billable, day, entry, NODE_A, NODE_B } from "./usage-entries.js";

const T = Date.now();

let counter = 0;
/** A fresh account per test (the tests share one storage), its limits set at T. */
function freshAccount(limits: Partial<KeyLimits> = {}) {
  const stub = keyAccount(env, `account-test-${++counter}-${T}`);
  return { stub, ready: stub.configure(limits, T) };
}
const req = (request_id: string, amount: number, tokens = 0) => ({ request_id, amount, tokens });
const whole: UsageQuery = { from: 0, to: day(1), group_by: null, limit: 100 };

function refusal(r: ReserveResult) {
  if (r.ok) throw new Error("expected a refusal");
  return r;
}

describe("KeyAccount reservations", () => {
  it("hold the worst case until settled at the actual cost, giving back unused tokens", async () => {
    const { stub, ready } = freshAccount({ budget: 1_000, tpm: 1_000 });
    expect(await ready).toMatchObject({ budget: 1_000, rpm: null, tpm: 1_000, spent: 0, reserved: 0 });
    expect((await stub.reserve(req("r1", 300, 200), T)).headers["x-ratelimit-remaining-tokens"]).toBe("800");
    expect(await stub.view(T)).toMatchObject({ spent: 0, reserved: 300 });

    expect(await stub.record([billable("r1", 250, { total_tokens: 50 })], T)).toBe(1);
    expect(await stub.view(T)).toMatchObject({ spent: 250, reserved: 0 });
    // 200 taken, 50 used: 150 back.
    expect((await stub.reserve(req("r2", 0, 0), T)).headers["x-ratelimit-remaining-tokens"]).toBe("950");
  });

  it("take the tokens an answer used beyond its reservation, so later requests wait for them", async () => {
    const { stub, ready } = freshAccount({ tpm: 1_000 });
    await ready;
    await stub.reserve(req("r1", 0, 100), T);
    // 100 held, 1,600 used: 1,500 more are taken, 600 below empty.
    await stub.record([entry("r1", { total_tokens: 1_600 })], T);
    const next = refusal(await stub.reserve(req("r2", 0, 100), T));
    expect(next.headers["x-ratelimit-remaining-tokens"]).toBe("0");
    // 700 tokens to refill at 1,000 a minute: 42 s.
    expect(next.retryAfterSeconds).toBe(42);
    expect((await stub.reserve(req("r2", 0, 100), T + 42_000)).ok).toBe(true);
  });

  it("release a failed request's hold and tokens, though it still counted as a request", async () => {
    const { stub, ready } = freshAccount({ budget: 100, rpm: 10, tpm: 1_000 });
    await ready;
    await stub.reserve(req("r1", 100, 400), T);
    expect(refusal(await stub.reserve(req("r2", 1), T)).code).toBe("insufficient_quota");
    await stub.release(["r1", "never-reserved"], T);
    expect(await stub.view(T)).toMatchObject({ spent: 0, reserved: 0 });
    const again = await stub.reserve(req("r2", 100, 0), T);
    expect(again.ok).toBe(true);
    expect(again.headers).toMatchObject({
      "x-ratelimit-remaining-requests": "8",
      "x-ratelimit-remaining-tokens": "1000",
    });
  });

  it("let exactly as many concurrent requests through as the budget covers", async () => {
    const { stub, ready } = freshAccount({ budget: 500 });
    await ready;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => stub.reserve(req(`c${i}`, 10), Date.now())),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(50);
    expect(results.filter((r) => !r.ok && r.code === "insufficient_quota")).toHaveLength(150);
    expect(await stub.view(Date.now())).toMatchObject({ reserved: 500 });
  });

  it("raise a reservation on failover, checking only the increase", async () => {
    const { stub, ready } = freshAccount({ budget: 100, rpm: 1 });
    await ready;
    expect((await stub.reserve(req("r1", 60), T)).ok).toBe(true);
    // Same request, pricier node: 20 more fits, and it is not a second request.
    expect((await stub.reserve(req("r1", 80), T)).ok).toBe(true);
    expect(await stub.view(T)).toMatchObject({ reserved: 80 });
    expect(refusal(await stub.reserve(req("r1", 101), T)).code).toBe("insufficient_quota");
  });

  it("drop reservations nobody settled or released after an hour", async () => {
    const { stub, ready } = freshAccount({ budget: 100 });
    await ready;
    await stub.reserve(req("abandoned", 100), T);
    // A stream has no overall time limit: half an hour in, its hold is still there.
    expect(refusal(await stub.reserve(req("next", 1), T + 30 * 60_000)).code).toBe("insufficient_quota");
    expect(refusal(await stub.reserve(req("next", 1), T + RESERVATION_TTL_MS - 1)).code).toBe("insufficient_quota");
    expect((await stub.reserve(req("next", 100), T + RESERVATION_TTL_MS)).ok).toBe(true);
    expect(await stub.view(T + RESERVATION_TTL_MS)).toMatchObject({ reserved: 100 });
  });

  it("refuse past the rpm with when to retry", async () => {
    const { stub, ready } = freshAccount({ rpm: 2, tpm: 100 });
    await ready;
    await stub.reserve(req("a", 0, 10), T);
    await stub.reserve(req("b", 0, 10), T);
    const rpm = refusal(await stub.reserve(req("c", 0, 10), T));
    expect(rpm).toMatchObject({ code: "rate_limit_exceeded", retryAfterSeconds: 30 });
    expect(rpm.headers).toMatchObject({
      "x-ratelimit-limit-requests": "2",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "1m0s",
    });
    expect((await stub.reserve(req("c", 0, 10), T + 30_000)).ok).toBe(true);
  });

  it("refuse past the tpm with when to retry, and a request larger than the tpm for good", async () => {
    const { stub, ready } = freshAccount({ tpm: 100 });
    await ready;
    await stub.reserve(req("a", 0, 70), T);
    const tpm = refusal(await stub.reserve(req("b", 0, 60), T));
    // 30 tokens short at 100 a minute: 18 s.
    expect(tpm).toMatchObject({ code: "rate_limit_exceeded", retryAfterSeconds: 18 });
    expect(tpm.message).toBe(
      "Rate limit reached for this API key on tokens per min (TPM): Limit 100, Used 70, Requested 60. Please try " +
        "again in 18s.",
    );
    expect(tpm.headers).toEqual({
      "x-ratelimit-limit-tokens": "100",
      "x-ratelimit-remaining-tokens": "30",
      "x-ratelimit-reset-tokens": "42s",
    });
    expect((await stub.reserve(req("b", 0, 60), T + 18_000)).ok).toBe(true);
    const huge = refusal(await stub.reserve(req("c", 0, 101), T + 600_000));
    expect(huge).toMatchObject({ code: "rate_limit_exceeded", retryAfterSeconds: null });
    expect(huge.message).toMatch(/^Request too large/);
  });

  it("clear a limit with null and keep the others", async () => {
    const { stub, ready } = freshAccount({ budget: 5, rpm: 1, tpm: 10 });
    await ready;
    expect(await stub.configure({ rpm: null }, T)).toMatchObject({
      budget: 5,
      rpm: null,
      tpm: 10,
      spent: 0,
      reserved: 0,
    });
    const r = await stub.reserve(req("a", 0, 1), T);
    expect(Object.keys(r.headers).some((h) => h.endsWith("-requests"))).toBe(false);
  });
});

describe("KeyAccount.settle", () => {
  it("records each request once: the same entries again are neither recorded nor charged again", async () => {
    const { stub, ready } = freshAccount({ budget: 10_000 });
    await ready;
    const entries = [billable("s1", 100), billable("s2", 200), entry("s3")];
    expect(await stub.record(entries, Date.now())).toBe(3);
    expect(await stub.record([...entries, { ...billable("s1", 999), prompt_tokens: 99 }], Date.now())).toBe(0);
    expect(await stub.view(Date.now())).toMatchObject({ spent: 300 });
    const usage = await stub.usage(whole);
    expect(usage.totals).toMatchObject({ requests: 3n, cost: 300n, billable_requests: 2n, prompt_tokens: 9n });
    expect(usage.rows.find((r) => r.request_id === "s3")).toMatchObject({
      cost: 0,
      billable: false,
      receipt_status: "missing",
      latency_ms: 13,
      streamed: true,
    });
  });

  it("charges only billable rows, whatever their cost field says", async () => {
    const { stub, ready } = freshAccount();
    await ready;
    await stub.record([entry("x", { cost: 500, node_amount: 400 })], Date.now());
    expect(await stub.view(Date.now())).toMatchObject({ spent: 0 });
  });

  it("passes billable receipts on to the node's earnings shard, once", async () => {
    const { stub, ready } = freshAccount();
    await ready;
    const e = billable(`earn-${Date.now()}`, 50, { node_id: NODE_B });
    await stub.record([e], Date.now());
    const outbox = await runInDurableObject(stub, (_obj, state) =>
      state.storage.sql.exec("SELECT * FROM outbox").toArray(),
    );
    expect(outbox).toEqual([]);
    // The shard has it: adding the same request again adds nothing.
    const shard = earningsShard(env, earningsShardOf(NODE_B, earningsShards(env)));
    const again: Earning = {
      request_id: e.request_id,
      node_id: NODE_B,
      receipt: e.receipt ?? "",
      leaf: "0x00",
      prompt_tokens: 3,
      completion_tokens: 4,
      amount: 49,
      created: e.created,
    };
    expect(await shard.add([again], Date.now())).toBe(0);
  });

  it("keeps receipts queued while their shard fails, and sends them from the alarm", async () => {
    const { stub, ready } = freshAccount();
    await ready;
    const failing = {
      get: () => ({ add: () => Promise.reject(new Error("shard down")) }),
      idFromName: (name: string) => name,
    };
    const e = billable(`retry-${Date.now()}`, 70, { node_id: NODE_A });
    await runInDurableObject(stub, async (_obj, state) => {
      const broken = new KeyAccount(state, { ...env, EARNINGS: failing as unknown as Env["EARNINGS"] });
      expect(await broken.record([e], Date.now())).toBe(1);
      expect(state.storage.sql.exec("SELECT request_id FROM outbox").toArray()).toEqual([{ request_id: e.request_id }]);
      const alarm = await state.storage.getAlarm();
      // The first retry comes after a second.
      expect(alarm).not.toBeNull();
      expect((alarm ?? 0) - Date.now()).toBeLessThanOrEqual(1_000);
      await new KeyAccount(state, env).alarm();
      expect(state.storage.sql.exec("SELECT request_id FROM outbox").toArray()).toEqual([]);
    });
    expect(await stub.view(Date.now())).toMatchObject({ spent: 70 });
  });
});

describe("KeyAccount.settle with figures near 2^53", () => {
  const MAX = Number.MAX_SAFE_INTEGER;
  const spentText = (stub: ReturnType<typeof freshAccount>["stub"]) =>
    runInDurableObject(
      stub,
      (_obj, state) => state.storage.sql.exec<{ s: string }>("SELECT CAST(spent AS TEXT) AS s FROM account").one().s,
    );

  it("refuses a batch with a figure that is not a non-negative safe integer, recording none of it", async () => {
    const { stub, ready } = freshAccount();
    await ready;
    // In the object itself: the caller's bug is thrown to the caller (here, not over RPC).
    await runInDurableObject(stub, async (account) => {
      for (const over of [
        { completion_tokens: 2 ** 53 },
        { total_tokens: -1 },
        { cost: 0.5 },
        { node_amount: Number.NaN },
        { created: MAX + 2 },
      ]) {
        await expect(account.record([entry("fine"), entry("bad", over)], Date.now())).rejects.toThrow(
          /^usage entry bad: /,
        );
      }
    });
    expect((await stub.usage(whole)).totals.requests).toBe(0n);
    expect(await stub.record([entry("fine")], Date.now())).toBe(1);
  });

  it("keeps what a key spent exact past 2^53, where adding doubles would round", async () => {
    const { stub, ready } = freshAccount();
    await ready;
    await stub.record(
      [entry("big-1", { billable: true, cost: MAX }), entry("big-2", { billable: true, cost: 3 })],
      Date.now(),
    );
    expect(await spentText(stub)).toBe(String(BigInt(MAX) + 3n));
  });

  it(
    "sums past int64 exactly, from roll-ups and from rows, and stops `spent` at int64 instead of " + "overflowing",
    async () => {
      const { stub, ready } = freshAccount();
      await ready;
      // 1,025 rows of 2^53 - 1 in one day, model and node: their roll-up passes 2^63 - 1, where SQLite would turn an
      // INTEGER into an inexact REAL, and a plain SUM() throws "integer overflow".
      const rows = Array.from({ length: 1_025 }, (_, i) =>
        entry(`max-${i}`, {
          created: day(-1, 12),
          billable: true,
          cost: MAX,
          node_amount: MAX,
          prompt_tokens: MAX,
          completion_tokens: MAX,
          total_tokens: MAX,
        }),
      );
      expect(await stub.record(rows, Date.now())).toBe(1_025);
      const expected = 1_025n * BigInt(MAX);
      expect(expected > 2n ** 63n - 1n).toBe(true);
      const figures = {
        requests: 1_025n,
        prompt_tokens: expected,
        completion_tokens: expected,
        total_tokens: expected,
        cost: expected,
        node_amount: expected,
        billable_requests: 1_025n,
      };
      // Whole days: the roll-up. Inside the day: the rows.
      expect((await stub.usage({ from: day(-2), to: day(0), group_by: null, limit: 0 })).totals).toMatchObject(figures);
      expect(
        (await stub.usage({ from: day(-1, 1), to: day(-1, 23), group_by: "model", limit: 0 })).groups,
      ).toMatchObject([{ group: "m", ...figures }]);
      expect(await spentText(stub)).toBe(String(2n ** 63n - 1n));
      // Still usable: the next charge neither throws nor wraps.
      expect(await stub.record([entry("after", { billable: true, cost: 1 })], Date.now())).toBe(1);
      expect(await spentText(stub)).toBe(String(2n ** 63n - 1n));
    },
  );
});

describe("KeyAccount.usage", () => {
  const entries: UsageEntry[] = [
    billable("u1", 10, {
      created: day(-3, 12),
      model: "m1",
      node_id: NODE_A,
      prompt_tokens: 1,
      completion_tokens: 2,
      total_tokens: 3,
    }),
    billable("u2", 20, {
      created: day(-2, 12),
      model: "m2",
      node_id: NODE_A,
      prompt_tokens: 2,
      completion_tokens: 3,
      total_tokens: 5,
    }),
    entry("u3", { created: day(-2, 13), model: "m1", node_id: NODE_B, estimated: true, receipt_status: "estimated" }),
    billable("u4", 40, {
      created: day(-1, 12),
      model: "m2",
      node_id: NODE_B,
      prompt_tokens: 5,
      completion_tokens: 5,
      total_tokens: 10,
    }),
    entry("u5", { created: day(-1, 23), model: "m1", node_id: NODE_A }),
  ];

  it("sums the same from daily roll-ups as from rows, by model, node and day", async () => {
    const { stub, ready } = freshAccount();
    await ready;
    await stub.record(entries, Date.now());
    const expected = (by: (e: UsageEntry) => string) => {
      const sums = new Map<
        string,
        { requests: bigint; total_tokens: bigint; cost: bigint; estimated_requests: bigint }
      >();
      for (const e of entries) {
        const s = sums.get(by(e)) ?? { requests: 0n, total_tokens: 0n, cost: 0n, estimated_requests: 0n };
        sums.set(by(e), {
          requests: s.requests + 1n,
          total_tokens: s.total_tokens + BigInt(e.total_tokens),
          cost: s.cost + BigInt(e.cost),
          estimated_requests: s.estimated_requests + (e.estimated ? 1n : 0n),
        });
      }
      return [...sums].sort(([a], [b]) => a.localeCompare(b)).map(([group, s]) => ({ group, ...s }));
    };
    const dimensions: [Dimension, (e: UsageEntry) => string][] = [
      ["model", (e) => e.model],
      ["node", (e) => e.node_id],
      ["day", (e) => new Date(e.created).toISOString().slice(0, 10)],
    ];
    for (const [group_by, by] of dimensions) {
      // Whole days: roll-ups only. Mid-day to mid-day: roll-ups for the middle day, rows for the ends.
      const fromRollups = await stub.usage({ from: day(-3), to: day(0), group_by, limit: 0 });
      const mixed = await stub.usage({ from: day(-3, 6), to: day(-1, 23.5), group_by, limit: 0 });
      expect(
        fromRollups.groups.map(({ group, requests, total_tokens, cost, estimated_requests }) => ({
          group,
          requests,
          total_tokens,
          cost,
          estimated_requests,
        })),
      ).toEqual(expected(by));
      expect(mixed.groups).toEqual(fromRollups.groups);
    }
  });

  it("lists the newest rows of a range, at most `limit`, saying whether there are more", async () => {
    const { stub, ready } = freshAccount();
    await ready;
    await stub.record(entries, Date.now());
    const report = await stub.usage({ from: day(-2), to: day(0), group_by: null, limit: 2 });
    expect(report.totals.requests).toBe(4n);
    expect(report.rows.map((r) => r.request_id)).toEqual(["u5", "u4"]);
    expect(report.has_more).toBe(true);
    expect((await stub.usage({ from: day(-2), to: day(0), group_by: null, limit: 4 })).has_more).toBe(false);
  });

  it("deletes rows past the retention from the alarm and keeps their roll-ups", async () => {
    const { stub, ready } = freshAccount();
    await ready;
    const old = [entry("old1", { created: day(-120, 5) }), entry("old2", { created: day(-120, 6) })];
    await stub.record([...old, entry("recent", { created: day(-1, 5) })], Date.now());
    await runInDurableObject(stub, (obj) => obj.alarm());
    const report = await stub.usage({ from: day(-121), to: day(0), group_by: null, limit: 10 });
    expect(report.rows.map((r) => r.request_id)).toEqual(["recent"]);
    expect(report.totals.requests).toBe(3n);
    expect((await stub.usage({ from: day(-120), to: day(-119), group_by: "day", limit: 0 })).groups).toMatchObject([
      { requests: 2n },
    ]);
  });
});

describe("KeyAccount over roll-ups from before their carries", () => {
  it("adds the carry columns, keeps the sums it had and carries from then on", async () => {
    const { stub, ready } = freshAccount();
    await ready;
    await runInDurableObject(stub, async (_obj, state) => {
      const sql = state.storage.sql;
      // An account from before versioned upgrades, whose roll-ups were made before the carries.
      sql.exec("DROP TABLE schema_version; DROP TABLE usage_daily");
      // Exactly as deployed before the carries.
      sql.exec(`CREATE TABLE usage_daily (day INTEGER NOT NULL, model TEXT NOT NULL, node_id TEXT NOT NULL, requests INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
        cost INTEGER NOT NULL, node_amount INTEGER NOT NULL,
        billable_requests INTEGER NOT NULL, estimated_requests INTEGER NOT NULL, PRIMARY KEY (day, model, node_id)) WITHOUT ROWID`);
      // A roll-up 100 short of int64's largest value (written as SQL text: a bound double can't hold it).
      const near = 2n ** 63n - 1n - 100n;
      sql.exec(`INSERT INTO usage_daily VALUES (?, 'm', ?, 2, ${near}, 0, 7, 10, 9, 2, 0)`, day(-1), NODE_A);
      const account = new KeyAccount(state, env);
      const whole = { from: day(-1), to: day(0), group_by: null, limit: 0 };
      expect(account.usage(whole).totals).toMatchObject({ requests: 2n, prompt_tokens: near, cost: 10n });
      // Three more rows in the same roll-up take it past int64: the carry holds it.
      const more = [1, 2, 3].map((i) =>
        entry(`carry-${i}`, { created: day(-1, i), prompt_tokens: Number.MAX_SAFE_INTEGER }),
      );
      expect(await account.record(more, Date.now())).toBe(3);
      const expected = near + 3n * BigInt(Number.MAX_SAFE_INTEGER);
      expect(account.usage(whole).totals).toMatchObject({
        requests: 5n,
        prompt_tokens: expected,
        total_tokens: 7n + 3n * 7n,
      });
      const stored = sql
        .exec<{ lo: string; hi: string }>(
          "SELECT CAST(prompt_tokens AS TEXT) AS lo, CAST(prompt_tokens_hi AS TEXT) AS hi FROM usage_daily",
        )
        .one();
      expect([BigInt(stored.lo), BigInt(stored.hi)]).toEqual([expected % 2n ** 32n, expected / 2n ** 32n]);
    });
  });
});

describe("KeyAccount over an old usage ledger", () => {
  it("upgrades the ledger's table in place, keeping its rows and rolling them up", async () => {
    const { stub, ready } = freshAccount();
    await ready;
    await runInDurableObject(stub, async (_obj, state) => {
      const sql = state.storage.sql;
      sql.exec(
        "DROP TABLE schema_version; DROP TABLE usage; DROP TABLE usage_daily; DROP TABLE account; DROP TABLE " +
          "reservations; DROP TABLE outbox",
      );
      // Exactly as UsageLedger created it.
      sql.exec(`CREATE TABLE IF NOT EXISTS usage (
        request_id TEXT PRIMARY KEY, created INTEGER NOT NULL, key_id TEXT NOT NULL, node_id TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
        latency_ms INTEGER NOT NULL, status INTEGER NOT NULL, streamed INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS usage_created ON usage (created)`);
      for (const [id, created, model] of [
        ["old-a", day(-2, 1), "m1"],
        ["old-b", day(-2, 2), "m1"],
        ["old-c", day(-1, 3), "m2"],
      ] as const) {
        sql.exec(
          "INSERT INTO usage VALUES (?, ?, 'key_old', ?, ?, 10, 20, 30, 15, 200, 1)",
          id,
          created,
          NODE_A,
          model,
        );
      }

      const account = new KeyAccount(state, env);
      const rows = account.usage({ from: 0, to: day(1), group_by: null, limit: 10 });
      expect(rows.rows.map((r) => r.request_id)).toEqual(["old-c", "old-b", "old-a"]);
      expect(rows.rows[0]).toMatchObject({
        cost: 0,
        node_amount: 0,
        billable: false,
        estimated: false,
        receipt_status: "missing",
        streamed: true,
        total_tokens: 30,
      });
      // Whole days come from the roll-ups, which the upgrade built from the old rows.
      expect(account.usage({ from: day(-2), to: day(0), group_by: "model", limit: 0 }).groups).toMatchObject([
        { group: "m1", requests: 2n, total_tokens: 60n },
        { group: "m2", requests: 1n, total_tokens: 30n },
      ]);
      expect(await account.record([billable("new", 5, { created: day(-1, 4), model: "m2" })], Date.now())).toBe(1);
      // Opening it again changes nothing: the upgrade ran once.
      const reopened = new KeyAccount(state, env);
      expect(reopened.usage({ from: day(-2), to: day(0), group_by: null, limit: 0 }).totals).toMatchObject({
        requests: 4n,
        total_tokens: 97n,
        cost: 5n,
      });
      expect(reopened.view(Date.now())).toMatchObject({ spent: 5 });
    });
  });
});
