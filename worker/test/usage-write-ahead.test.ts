// The usage write-ahead in the admission cells and what its flush feeds: the keys' accounts, the nodes' earnings
// shards and the global roll-up that /admin/usage reads, each once per row however often a step is retried.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { UsageGroupReportSchema } from "@meshgate/schemas";
import { rollupBatch } from "../src/billing/rollup-sums.js";
import { SUM_FIELDS } from "../src/billing/usage-sums.js";
import { UsageWal } from "../src/durable/admission-cell/usage-wal.js";
import { earningsShard, earningsShardOf, earningsShards, keyAccount, usageRollup } from "../src/durable/names.js";
import { KEY_INDEX_SHARDS } from "../src/keys/key-shard.js";
import { adminUsageRoute } from "../src/routes/usage.js";
import type { GatewayRequest } from "../src/http/request-id.js";
import { adminFetch, createApiKey, errorBody } from "./helpers.js";
import { billable, day, entry, NODE_A, NODE_B } from "./usage-entries.js";
import { flushed, testCell } from "./write-ahead.js";

const seconds = (ms: number) => Math.floor(ms / 1000);

function earningsOf(requestIds: string[]): Promise<number> {
  return runInDurableObject(
    earningsShard(env, earningsShardOf(NODE_A, earningsShards(env))),
    (_obj, state) =>
      state.storage.sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM earnings WHERE request_id IN (SELECT value FROM json_each(?))",
          JSON.stringify(requestIds),
        )
        .one().n,
  );
}

async function adminByKey(query = ""): Promise<Map<string, number>> {
  const body = UsageGroupReportSchema.parse(await (await adminFetch(`/admin/usage?group_by=key${query}`)).json());
  return new Map(body.data.map((g) => [g.key_id ?? "", g.requests]));
}

describe("usage write-ahead", () => {
  it("delivers a released row to its account, its node's earnings and the roll-up, once each across retries", async () => {
    const key = await createApiKey("wal-once");
    const rows = [
      billable("wal-once-1", 500, { key_id: key.id }),
      entry("wal-once-2", { key_id: key.id, model: "wal-once-model" }),
    ];
    const cell = testCell();
    const release = () =>
      cell.release(
        rows.map((e) => ({ leaseId: `gone-${e.request_id}`, outcome: null, usage: { entry: e, prompt: false } })),
        Date.now(),
      );
    await release();
    // A release retried after its reply was lost: the same rows again, before and after the flush.
    await release();
    await flushed(cell);
    await release();
    await flushed(cell);

    const account = await keyAccount(env, key.id).usage({ from: 0, to: Date.now() + 1, group_by: null, limit: 10 });
    expect(account.totals.requests).toBe(2n);
    expect(account.totals.cost).toBe(500n);
    expect(await earningsOf(["wal-once-1", "wal-once-2"])).toBe(1);
    expect((await adminByKey()).get(key.id)).toBe(2);
  });

  it("adds a roll-up batch a cell sends again (its reply lost) once, and no older batch of that cell", async () => {
    const rollup = usageRollup(env);
    const batch = (id: string) => rollupBatch([entry(id, { key_id: "key_resent", created: day(-1, 5) })]);
    expect(await rollup.add("cell:resent", 1, batch("resent-1"), Date.now())).toBe(true);
    expect(await rollup.add("cell:resent", 1, batch("resent-1"), Date.now())).toBe(false);
    expect(await rollup.add("cell:resent", 2, batch("resent-2"), Date.now())).toBe(true);
    expect(await rollup.add("cell:resent", 1, batch("resent-1"), Date.now())).toBe(false);
    expect((await adminByKey()).get("key_resent")).toBe(2);
  });

  it("carries a figure's low 32 bits into its high half, in an hour's row and in a day's", async () => {
    const rollup = usageRollup(env);
    // Kept under 2^53 in total: the admin reports of the tests below read this key too.
    const big = 2 ** 32 - 1;
    const add = (seq: number, created: number) =>
      rollup.add(
        "cell:big",
        seq,
        rollupBatch([entry(`big-${seq}`, { key_id: "key_big", created, total_tokens: big })]),
        Date.now(),
      );
    const tokensOf = async (from: number, to: number) => {
      const group = (await rollup.usage("key", from, to)).find((g) => g.group === "key_big");
      return group?.sums[SUM_FIELDS.indexOf("total_tokens")];
    };
    for (let seq = 1; seq <= 3; seq++) await add(seq, day(-1, 9));
    expect(await tokensOf(day(-1), day(0))).toBe(String(3n * BigInt(big)));
    // Past the retention: straight into its day's row, where the carry is the same.
    for (let seq = 4; seq <= 6; seq++) await add(seq, day(-300, 9));
    await runDurableObjectAlarm(rollup);
    expect(await tokensOf(day(-300), day(-299))).toBe(String(3n * BigInt(big)));
  });

  it("keeps hours past the retention as days: whole days are answered, an hour there is refused", async () => {
    const old = day(-200, 7);
    await usageRollup(env).add("cell:old", 1, rollupBatch([entry("old-1", { key_id: "key_old", created: old })]), 0);
    await runDurableObjectAlarm(usageRollup(env));
    expect((await adminByKey(`&from=${seconds(day(-200))}&to=${seconds(day(-199))}`)).get("key_old")).toBe(1);
    // Added after the fold: straight into its day.
    await usageRollup(env).add("cell:old", 2, rollupBatch([entry("old-2", { key_id: "key_old", created: old })]), 0);
    expect((await adminByKey(`&from=${seconds(day(-201))}&to=${seconds(day(-199))}`)).get("key_old")).toBe(2);

    const hourly = await adminFetch(`/admin/usage?from=${seconds(day(-200, 7))}&to=${seconds(day(-199))}`);
    expect(hourly.status).toBe(400);
    const refused = await errorBody(hourly);
    expect(refused.param).toBe("from");
    expect(refused.message).toMatch(/midnight UTC/);
  });

  it("refuses a range across all keys that does not start on a whole hour, saying why", async () => {
    const res = await adminFetch(`/admin/usage?from=${seconds(day(-1, 1)) + 60}`);
    expect(res.status).toBe(400);
    const refused = await errorBody(res);
    expect(refused.param).toBe("from");
    expect(refused.message).toMatch(/whole UTC hour/);
  });

  it("keeps delivering a key's rows after a row no account accepts was released (a caller's bug)", async () => {
    const key = await createApiKey("wal-poison");
    const cell = testCell();
    const release = (e: ReturnType<typeof entry>) =>
      cell.release(
        [{ leaseId: `gone-${e.request_id}`, outcome: null, usage: { entry: e, prompt: false } }],
        Date.now(),
      );
    // A fraction of a micro-unit: the account refuses the whole batch it is in, whenever it is sent.
    await release(billable("wal-poison-bad", 500, { key_id: key.id, cost: 1.5, created: day(-1, 1) }));
    // No key at all: given back with its lease like any other, not a failed release.
    await release({ ...billable("wal-poison-keyless", 500), key_id: undefined as unknown as string });
    await release(billable("wal-poison-good", 500, { key_id: key.id, created: day(-1, 2) }));
    await flushed(cell);
    const account = await keyAccount(env, key.id).usage({ from: 0, to: Date.now() + 1, group_by: null, limit: 10 });
    expect(account.totals.requests).toBe(1n);
    expect(account.totals.cost).toBe(500n);
    expect(await earningsOf(["wal-poison-good"])).toBe(1);
  });

  it("charges other keys' rows while one key's account keeps failing with a long backlog", async () => {
    const healthy = await createApiKey("wal-healthy");
    const failing = "key_wal_failing";
    // The failing key's account is down; every other account answers.
    const accounts = {
      idFromName: (name: string) => env.ACCOUNTS.idFromName(name),
      get: (id: DurableObjectId) =>
        id.equals(env.ACCOUNTS.idFromName(`ledger:${failing}`))
          ? { record: () => Promise.reject(new Error("account down")) }
          : env.ACCOUNTS.get(id),
    };
    const down = { ...env, ACCOUNTS: accounts as unknown as Env["ACCOUNTS"] };
    // More of the failing key's rows than one flush sends, all older than the healthy key's one row.
    const backlog = Array.from({ length: 1_001 }, (_, i) =>
      entry(`wal-backlog-${i}`, { key_id: failing, created: day(-1, 1) + i }),
    );
    const rows = [...backlog, entry("wal-healthy-1", { key_id: healthy.id, created: day(-1, 2) })];
    await runInDurableObject(testCell(), async (_obj, state) => {
      const wal = new UsageWal(state.storage.sql, down, "cell:backlog");
      wal.write(rows.map((e) => ({ entry: e, prompt: false })));
      await wal.flush(Date.now(), 1_000);
    });
    const usage = await keyAccount(env, healthy.id).usage({ from: 0, to: Date.now() + 1, group_by: null, limit: 10 });
    expect(usage.totals.requests).toBe(1n);
  });

  it("pays other nodes' earnings while one earnings shard keeps failing with a long backlog", async () => {
    const shards = earningsShards(env);
    expect(earningsShardOf(NODE_B, shards)).not.toBe(earningsShardOf(NODE_A, shards));
    const downShard = env.EARNINGS.idFromName(`earnings:${earningsShardOf(NODE_A, shards)}`);
    const earnings = {
      idFromName: (name: string) => env.EARNINGS.idFromName(name),
      get: (id: DurableObjectId) =>
        id.equals(downShard) ? { add: () => Promise.reject(new Error("shard down")) } : env.EARNINGS.get(id),
    };
    const down = { ...env, EARNINGS: earnings as unknown as Env["EARNINGS"] };
    const backlog = Array.from({ length: 1_001 }, (_, i) =>
      billable(`wal-shard-backlog-${i}`, 10, { key_id: "key_wal_shard", created: day(-1, 1) + i }),
    );
    const paid = billable("wal-shard-other", 10, { key_id: "key_wal_shard", node_id: NODE_B, created: day(-1, 2) });
    await runInDurableObject(testCell(), async (_obj, state) => {
      const wal = new UsageWal(state.storage.sql, down, "cell:shard-backlog");
      wal.write([...backlog, paid].map((e) => ({ entry: e, prompt: false })));
      await wal.flush(Date.now(), 1_000);
    });
    const count = await runInDurableObject(
      earningsShard(env, earningsShardOf(NODE_B, shards)),
      (_obj, state) =>
        state.storage.sql
          .exec<{ n: number }>("SELECT COUNT(*) AS n FROM earnings WHERE request_id = ?", paid.request_id)
          .one().n,
    );
    expect(count).toBe(1);
  });

  it("answers for 20,000 keys with the same few calls as for one", async () => {
    const entries = Array.from({ length: 20_000 }, (_, i) =>
      entry(`many-${i}`, { key_id: `key_many_${i}`, created: day(-1, 3) }),
    );
    await usageRollup(env).add("cell:many", 1, rollupBatch(entries), Date.now());
    const calls: string[] = [];
    const body = UsageGroupReportSchema.parse(await (await adminUsageRoute(adminRequest(), countingEnv(calls))).json());
    expect(body.data.filter((g) => g.key_id?.startsWith("key_many_"))).toHaveLength(20_000);
    // The roll-up once; the key index's root and the shards it says hold keys (at most KEY_INDEX_SHARDS, however many
    // keys): nothing per key.
    expect(calls.filter((c) => c.startsWith("ROLLUP")).sort()).toEqual(["ROLLUP.get", "ROLLUP.usage"]);
    const keyCalls = calls.filter((c) => c.startsWith("KEYS."));
    expect(keyCalls.filter((c) => c === "KEYS.occupiedShards")).toHaveLength(1);
    expect(keyCalls.length).toBeLessThanOrEqual(2 + 2 * KEY_INDEX_SHARDS);
  });
});

function adminRequest(): GatewayRequest {
  const request = new Request("https://gateway.test/admin/usage?group_by=key", {
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
  });
  return Object.assign(request, { id: "req_count", params: {}, query: {}, proxy: undefined }) as GatewayRequest;
}

/** The environment with every Durable Object binding counting the stubs it hands out and the calls made on them. */
function countingEnv(calls: string[]): Env {
  const counted = new Map<string, unknown>();
  for (const [name, value] of Object.entries(env)) {
    if (!value || typeof value !== "object" || !("idFromName" in value)) continue;
    const namespace = value as DurableObjectNamespace;
    counted.set(name, {
      idFromName: (n: string) => namespace.idFromName(n),
      get(id: DurableObjectId) {
        calls.push(`${name}.get`);
        const stub = namespace.get(id);
        // Only calls go through (what the route does with a stub); each is the stub's own method call.
        const methods = stub as unknown as Record<string, (...args: unknown[]) => unknown>;
        return new Proxy(
          {},
          {
            get:
              (_target, method: string) =>
              (...args: unknown[]) => {
                calls.push(`${name}.${method}`);
                return methods[method]?.(...args);
              },
          },
        );
      },
    });
  }
  return { ...env, ...Object.fromEntries(counted) } as Env;
}
