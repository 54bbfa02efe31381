import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  decodeReceipt,
  EMPTY_ROOT,
  fromBase64,
  fromHex,
  GatewayMetadataSchema,
  nodeAmount,
  receiptLeaf,
  settlementStatementBytes,
  SettlementListSchema,
  SettlementProofSchema,
  SettlementStatementSchema,
  toHex,
  verifyMerkleProof,
  webCryptoVerify,
  type Price,
  type SettlementProof,
  type SettlementStatement,
} from "@meshgate/schemas";
import type { Earning } from "../src/billing/records.js";
import { earningsShard, earningsShardOf, earningsShards, settlements } from "../src/durable/names.js";
import { adminFetch, BASE, errorBody, newNode, signedEarning, type TestNode } from "./helpers.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const PRICE: Price = { prompt: 150_000, completion: 600_000 };
/** Each test closes its own days of 2020, so the one Settlements object never sees two tests' periods overlap. */
const day = (n: number) => Date.UTC(2020, 0, 1) + n * DAY;

let requests = 0;

/** A billable receipt signed by the node, as the request path hands it to the node's earnings shard. */
function earning(node: TestNode, created: number, prompt_tokens = 100, completion_tokens = 20, price = PRICE) {
  return signedEarning(
    node,
    `req_settle_${++requests}_${created}`,
    created,
    { prompt_tokens, completion_tokens },
    price,
  );
}

async function store(earnings: Earning[]): Promise<number> {
  let added = 0;
  for (const e of earnings)
    added += await earningsShard(env, earningsShardOf(e.node_id, earningsShards(env))).add([e], Date.now());
  return added;
}

function close(from: number | string, to: number | string): Promise<Response> {
  return adminFetch("/admin/settlements", {
    method: "POST",
    body: JSON.stringify({ from, to }),
    headers: { "content-type": "application/json" },
  });
}

async function closed(from: number, to: number): Promise<SettlementStatement> {
  const res = await close(from / 1000, new Date(to).toISOString());
  if (res.status !== 201) throw new Error(`close failed: ${res.status} ${await res.text()}`);
  return SettlementStatementSchema.parse(await res.json());
}

const get = (path: string) => SELF.fetch(`${BASE}${path}`);

async function proof(id: string, nodeId: string, page = 0): Promise<SettlementProof & { has_more: boolean }> {
  const res = await get(`/v1/settlements/${id}/proof?node=${nodeId}&page=${page}`);
  if (res.status !== 200) throw new Error(`proof failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { has_more: boolean };
  return { ...SettlementProofSchema.parse(body), has_more: body.has_more };
}

const bytesOf = (hex: string) => fromHex(hex) ?? EMPTY_ROOT;

/** Every leaf of the node's proof checks out: its receipt is the node's signed one and its proof folds to the root. */
async function verifiedRequestIds(statement: SettlementStatement, node: TestNode): Promise<string[]> {
  const body = await proof(statement.id, node.id);
  expect(body.has_more).toBe(false);
  expect(body.merkle_root).toBe(statement.merkle_root);
  expect(body.node).toEqual(statement.nodes.find((n) => n.node_id === node.id));
  const ids: string[] = [];
  for (const leaf of body.leaves) {
    const signed = decodeReceipt(leaf.receipt);
    if (!signed) throw new Error("a leaf's receipt does not decode");
    expect(await webCryptoVerify(node.publicKey, signed.signature, signed.bytes)).toBe(true);
    expect(toHex(receiptLeaf(signed.bytes))).toBe(leaf.leaf);
    expect(leaf.amount).toBe(nodeAmount(signed.receipt, signed.receipt.price));
    expect(verifyMerkleProof(bytesOf(leaf.leaf), leaf.proof.map(bytesOf), bytesOf(statement.merkle_root))).toBe(true);
    ids.push(signed.receipt.request_id);
  }
  return ids.sort();
}

const ids = (earnings: Earning[]) => earnings.map((e) => e.request_id).sort();

describe("POST /admin/settlements", () => {
  it("closes a period into a statement signed by the gateway key, whose every receipt proves to its root", async () => {
    const [a, b, c] = [await newNode(), await newNode(), await newNode()];
    const from = day(0);
    const to = day(1);
    const inA = [await earning(a, from), await earning(a, from + 1000, 7, 0), await earning(a, to - 1)];
    const inB = await Promise.all(
      Array.from({ length: 5 }, (_, i) => earning(b, from + 3_600_000 * i, 1000 + i, 50 * i)),
    );
    const inC = [await earning(c, from + DAY / 2, 1, 1)];
    const outside = [await earning(a, to), await earning(b, to + DAY)];
    expect(await store([...inA, ...inB, ...inC, ...outside])).toBe(11);
    expect(await store(inA)).toBe(0);

    const before = Date.now();
    const statement = await closed(from, to);
    expect(statement).toMatchObject({
      object: "settlement",
      from,
      to,
      receipts: 9,
      amount: [...inA, ...inB, ...inC].reduce((n, e) => n + e.amount, 0),
    });
    expect(statement.id).toMatch(/^stl_/);
    expect(statement.created).toBeGreaterThanOrEqual(before);
    expect(statement.nodes.map((n) => n.node_id)).toEqual([a.id, b.id, c.id].sort());
    expect(statement.nodes.find((n) => n.node_id === b.id)).toMatchObject({
      receipts: 5,
      prompt_tokens: inB.reduce((n, e) => n + e.prompt_tokens, 0),
      completion_tokens: inB.reduce((n, e) => n + e.completion_tokens, 0),
      amount: inB.reduce((n, e) => n + e.amount, 0),
    });

    const metadata = GatewayMetadataSchema.parse(await (await get("/.well-known/meshgate.json")).json());
    const key = metadata.keys.find((k) => k.kid === statement.key_id);
    expect(key?.status).toBe("current");
    const signature = fromBase64(statement.signature) ?? new Uint8Array();
    expect(await webCryptoVerify(key?.jwk.x ?? "", signature, settlementStatementBytes(statement))).toBe(true);
    expect(
      await webCryptoVerify(
        key?.jwk.x ?? "",
        signature,
        settlementStatementBytes({ ...statement, amount: statement.amount + 1 }),
      ),
    ).toBe(false);

    expect(await verifiedRequestIds(statement, a)).toEqual(ids(inA));
    expect(await verifiedRequestIds(statement, b)).toEqual(ids(inB));
    expect(await verifiedRequestIds(statement, c)).toEqual(ids(inC));
    expect((await proof(statement.id, a.id, 1)).leaves).toEqual([]);

    const fetched = await get(`/v1/settlements/${statement.id}`);
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toEqual(statement);
  });

  it("has the empty root and no nodes for a period without receipts", async () => {
    // Before every receipt of these tests: a close sweeps in every unsettled receipt from before its end.
    const statement = await closed(day(-10), day(-10) + HOUR);
    expect(statement).toMatchObject({ receipts: 0, amount: 0, nodes: [], merkle_root: toHex(EMPTY_ROOT) });
  });

  it("refuses a period overlapping another, including an exact re-close, naming the other", async () => {
    const first = await closed(day(20), day(21));
    for (const [from, to] of [
      [day(20), day(21)],
      [day(20) + 1000, day(20) + 1000 + HOUR],
      [day(19), day(20) + 1],
      [day(21) - 1, day(22)],
      [day(19), day(22)],
    ]) {
      const res = await close(new Date(from ?? 0).toISOString(), new Date(to ?? 0).toISOString());
      expect(res.status).toBe(409);
      const err = await errorBody(res);
      expect(err.code).toBe("settlement_overlap");
      expect(err.message).toContain(first.id);
      expect(err.message).toContain("which is closed");
    }
    // Adjacent periods share no instant: [from, to) ends where the next begins.
    expect((await close(day(21) / 1000, day(22) / 1000)).status).toBe(201);
    expect((await close(day(19) / 1000, day(20) / 1000)).status).toBe(201);
  });

  it("refuses a period that is not over, or not long enough ago for its receipts to have arrived", async () => {
    const now = Date.now();
    for (const to of [now + 3_600_000, now - 60_000]) {
      const res = await close(Math.floor((now - DAY) / 1000), new Date(to).toISOString());
      expect(res.status).toBe(400);
      expect((await errorBody(res)).code).toBe("period_not_over");
    }
  });

  it("validates the period and requires the admin token", async () => {
    for (const body of [
      { from: day(30) / 1000, to: day(30) / 1000 },
      { from: day(31) / 1000, to: day(30) / 1000 },
      { from: "soon", to: 1 },
      { from: 1 },
    ]) {
      const res = await adminFetch("/admin/settlements", { method: "POST", body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect((await errorBody(res)).type).toBe("invalid_request_error");
    }
    const anonymous = await SELF.fetch(`${BASE}/admin/settlements`, {
      method: "POST",
      body: JSON.stringify({ from: 0, to: 1 }),
    });
    expect(anonymous.status).toBe(401);
  });

  it(
    "refuses a period shorter than an hour, which would leave most receipts in its unverifiable last " + "minute",
    async () => {
      for (const length of [60_000, HOUR - 1]) {
        const res = await close(new Date(day(30)).toISOString(), new Date(day(30) + length).toISOString());
        expect(res.status).toBe(400);
        const err = await errorBody(res);
        expect(err).toMatchObject({ code: "period_too_short", param: "to" });
        expect(err.message).toContain("at least 3600000 ms (1 hour)");
      }
    },
  );
});

describe("a node with more receipts than one page", () => {
  it("serves its proofs in pages of 1,024 that together hold every receipt, each proving to the root", async () => {
    const node = await newNode();
    const other = await newNode();
    const from = day(80);
    const many = await Promise.all(Array.from({ length: 2_100 }, (_, i) => earning(node, from + i)));
    await earningsShard(env, earningsShardOf(node.id, earningsShards(env))).add(many, Date.now());
    await store([await earning(other, from)]);
    const statement = await closed(from, day(81));
    expect(statement.nodes.find((n) => n.node_id === node.id)?.receipts).toBe(2_100);

    const seen: string[] = [];
    for (let page = 0; ; page++) {
      const body = await proof(statement.id, node.id, page);
      expect(body.leaves.length).toBe(page < 2 ? 1024 : 52);
      for (const leaf of body.leaves) {
        expect(verifyMerkleProof(bytesOf(leaf.leaf), leaf.proof.map(bytesOf), bytesOf(statement.merkle_root))).toBe(
          true,
        );
        seen.push(decodeReceipt(leaf.receipt)?.receipt.request_id ?? "");
      }
      if (!body.has_more) break;
    }
    expect(seen.sort()).toEqual(ids(many));
  });
});

describe("late receipts", () => {
  it("are carried into the next close, and the closed statement never changes", async () => {
    const node = await newNode();
    const onTime = await earning(node, day(40) + 5);
    await store([onTime]);
    const first = await closed(day(40), day(41));
    expect(first.receipts).toBe(1);

    const late = await earning(node, day(40) + 10);
    const next = await earning(node, day(41) + 10);
    // No close ever covered day 39: swept in too.
    const fromGap = await earning(node, day(39));
    await store([late, next, fromGap]);
    const second = await closed(day(41), day(42));
    expect(second.receipts).toBe(3);
    expect(await verifiedRequestIds(second, node)).toEqual(ids([late, next, fromGap]));

    expect(await (await get(`/v1/settlements/${first.id}`)).json()).toEqual(first);
    expect(await verifiedRequestIds(first, node)).toEqual([onTime.request_id]);
  });
});

describe("Settlements", () => {
  it("resumes a close that began and never finished, keeping its id, and never changes a finished one", async () => {
    const [from, to] = [day(90), day(91)];
    const begun = await settlements(env).begin(from, to, Date.now());
    if (!begun.ok) throw new Error(`begin refused: overlaps ${begun.conflict.id}`);
    // Still closing: not shown to anyone yet.
    expect((await get(`/v1/settlements/${begun.id}`)).status).toBe(404);
    expect(await settlements(env).begin(day(90) + 1, to, Date.now())).toEqual({
      ok: false,
      conflict: { id: begun.id, status: "closing", from, to },
    });

    // Another period over it is refused, saying the other is still closing and how to finish it.
    const refused = await close(day(89) / 1000, (day(90) + DAY / 2) / 1000);
    expect(refused.status).toBe(409);
    const { code, message } = await errorBody(refused);
    expect(code).toBe("settlement_overlap");
    expect(message).toContain(begun.id);
    expect(message).toContain("still closing");
    expect(message).toContain(`or abort it (POST /admin/settlements/${begun.id}/abort)`);
    const finish = /POSTing exactly (\{.*?\})/.exec(message)?.[1] ?? "";
    expect(JSON.parse(finish)).toEqual({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    const finished = await adminFetch("/admin/settlements", {
      method: "POST",
      body: finish,
      headers: { "content-type": "application/json" },
    });
    expect(finished.status).toBe(201);

    const statement = SettlementStatementSchema.parse(await finished.json());
    expect(statement).toMatchObject({ id: begun.id, created: begun.created });
    expect(await settlements(env).finish({ ...statement, amount: statement.amount + 1, signature: "forged" })).toEqual(
      statement,
    );
    expect(await (await get(`/v1/settlements/${begun.id}`)).json()).toEqual(statement);
  });
});

describe("Settlements.abort", () => {
  it("stops a close from being signed, holds the period until every shard released it, then reopens it", async () => {
    const [from, to] = [day(95), day(96)];
    const begun = await settlements(env).begin(from, to, Date.now());
    if (!begun.ok) throw new Error("begin refused");
    expect(await settlements(env).abort(begun.id)).toEqual({ ok: true, from, to, read: earningsShards(env) });
    // A close that got its shards' results just now cannot sign any more.
    const unsigned = {
      object: "settlement" as const,
      id: begun.id,
      from,
      to,
      created: begun.created,
      receipts: 0,
      amount: 0,
      merkle_root: toHex(EMPTY_ROOT),
      nodes: [],
      key_id: "k",
    };
    expect(await settlements(env).finish({ ...unsigned, signature: "s" })).toBeNull();
    expect(await settlements(env).begin(from, to, Date.now())).toEqual({
      ok: false,
      conflict: { id: begun.id, status: "aborting", from, to },
    });
    await settlements(env).aborted(begun.id);
    const again = await settlements(env).begin(from, to, Date.now());
    expect(again.ok && again.id !== begun.id).toBe(true);
    expect(await settlements(env).abort("stl_unknown")).toEqual({ ok: false, status: "unknown" });
  });
});

describe("EarningsShard.close", () => {
  it("is idempotent: the same id returns the same result and settles nothing new", async () => {
    const node = await newNode();
    const shard = earningsShard(env, earningsShardOf(node.id, earningsShards(env)));
    const [from, to] = [day(50), day(51)];
    await shard.add([await earning(node, from), await earning(node, from + 1)], Date.now());
    const once = await shard.close("stl_idempotence", from, to);
    expect(once).toEqual([expect.objectContaining({ node_id: node.id, receipts: 2 })]);
    // Arrives after the shard closed the period: stored as late, not slipped into the closed one.
    expect(await shard.add([await earning(node, from + 2)], Date.now())).toBe(1);
    expect(await shard.close("stl_idempotence", from, to)).toEqual(once);
    expect((await shard.close("stl_idempotence_next", to, day(52)))?.[0]?.receipts).toBe(1);
  });
});

describe("reading statements", () => {
  it("lists closed statements newest first, paged", async () => {
    const older = await closed(day(60), day(61));
    const newer = await closed(day(61), day(62));
    const list = SettlementListSchema.parse(await (await get("/v1/settlements?limit=100")).json());
    const order = list.data.map((s) => s.id);
    expect(order.indexOf(newer.id)).toBeLessThan(order.indexOf(older.id));
    expect(order.indexOf(older.id)).toBeGreaterThanOrEqual(0);

    const firstPage = SettlementListSchema.parse(await (await get("/v1/settlements?limit=1")).json());
    expect(firstPage.data).toHaveLength(1);
    expect(firstPage.has_more).toBe(true);
    const rest = SettlementListSchema.parse(
      await (await get(`/v1/settlements?limit=100&after=${firstPage.data[0]?.id}`)).json(),
    );
    expect(rest.data.map((s) => s.id)).toEqual(order.slice(1));
    for (const bad of ["limit=0", "limit=101", "limit=x", "after=stl_nope"])
      expect((await get(`/v1/settlements?${bad}`)).status).toBe(400);
  });

  it("answers 404 for an unknown settlement or a node not in it, and 400 without a valid node", async () => {
    const node = await newNode();
    const stranger = await newNode();
    await store([await earning(node, day(70))]);
    const statement = await closed(day(70), day(71));

    const unknown = await get("/v1/settlements/stl_nope");
    expect(unknown.status).toBe(404);
    expect((await errorBody(unknown)).code).toBe("settlement_not_found");
    expect((await get("/v1/settlements/stl_nope/proof?node=" + node.id)).status).toBe(404);

    const notIn = await get(`/v1/settlements/${statement.id}/proof?node=${stranger.id}`);
    expect(notIn.status).toBe(404);
    expect((await errorBody(notIn)).code).toBe("node_not_in_settlement");
    for (const query of ["", "?node=", "?node=abc", `?node=${node.id}&page=-1`]) {
      const res = await get(`/v1/settlements/${statement.id}/proof${query}`);
      expect(res.status).toBe(400);
      expect((await errorBody(res)).param).toBe(query.includes("page") ? "page" : "node");
    }
  });
});

describe("gaps between closed periods", () => {
  it("are swept into the next close, so a receipt no period covered is still paid", async () => {
    const node = await newNode();
    const inFirst = await earning(node, day(100) + 5);
    const inGap = await earning(node, day(101) + HOUR);
    const inSecond = await earning(node, day(102) + 5);
    await store([inFirst, inGap, inSecond]);
    const first = await closed(day(100), day(101));
    // [day 101, day 102) is never closed.
    const second = await closed(day(102), day(103));
    expect(await verifiedRequestIds(first, node)).toEqual([inFirst.request_id]);
    expect(await verifiedRequestIds(second, node)).toEqual(ids([inGap, inSecond]));
  });
});

/** Fresh nodes until every earnings shard has one, in shard order. */
async function oneNodePerShard(): Promise<TestNode[]> {
  const byShard = new Map<number, TestNode>();
  while (byShard.size < earningsShards(env)) {
    const node = await newNode();
    if (!byShard.has(earningsShardOf(node.id, earningsShards(env))))
      byShard.set(earningsShardOf(node.id, earningsShards(env)), node);
  }
  return [...byShard].sort(([a], [b]) => a - b).map(([, node]) => node);
}

describe("a period whose receipts add up past 2^53", () => {
  it(
    "closes with every figure a safe integer, carries what would pass that into the next close, and every proof " +
      "verifies",
    async () => {
      // The largest receipt there can be: 1e8 prompt and 1e8 completion tokens at 1e12 micro-units a million: 2e14.
      const dearest: Price = { prompt: 1e12, completion: 1e12 };
      const nodes = await oneNodePerShard();
      const from = day(110);
      const byNode = new Map<string, Earning[]>();
      for (const node of nodes)
        byNode.set(node.id, await Promise.all([1, 2, 3].map((i) => earning(node, from + i * 1000, 1e8, 1e8, dearest))));
      const all = [...byNode.values()].flat();
      expect(all.every((e) => e.amount === 2e14)).toBe(true);
      // 48 × 2e14 = 9.6e15: a double no longer holds every integer there.
      expect(all.reduce((n, e) => n + BigInt(e.amount), 0n) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
      await store(all);

      const first = await closed(from, day(111));
      const second = await closed(day(111), day(112));
      for (const statement of [first, second]) {
        for (const figure of [
          statement.receipts,
          statement.amount,
          ...statement.nodes.flatMap((n) => [n.receipts, n.prompt_tokens, n.completion_tokens, n.amount]),
        ]) {
          expect(Number.isSafeInteger(figure)).toBe(true);
        }
      }
      // Each shard's close may reach 2^53 / 16 ≈ 5.6e14 per figure: two such receipts a node, the third carried.
      expect(first).toMatchObject({ receipts: 32, amount: 32 * 2e14 });
      expect(second).toMatchObject({ receipts: 16, amount: 16 * 2e14 });
      for (const node of nodes) {
        const paid = [...(await verifiedRequestIds(first, node)), ...(await verifiedRequestIds(second, node))];
        expect(paid.sort()).toEqual(ids(byNode.get(node.id) ?? []));
        expect(first.nodes.find((n) => n.node_id === node.id)).toMatchObject({
          receipts: 2,
          prompt_tokens: 2e8,
          completion_tokens: 2e8,
          amount: 4e14,
        });
      }
    },
  );
});

describe("POST /admin/settlements/{id}/abort", () => {
  /** A row whose leaf is not hex: the shard holding it fails its part of every close that reaches it. */
  async function poison(shard: number, created: number): Promise<() => Promise<void>> {
    const stub = earningsShard(env, shard);
    // A node of that shard: a receipt of another shard's node would be moved to its own shard before the close.
    let nodeId = "P".repeat(43);
    for (let i = 0; earningsShardOf(nodeId, earningsShards(env)) !== shard; i++) nodeId = `${i}`.padEnd(43, "P");
    await runInDurableObject(stub, (_obj, state) => {
      state.storage.sql.exec(
        "INSERT INTO earnings VALUES ('req_poison', ?, 'x', '0xzz', 1, 1, 1, ?, 0, NULL, 0)",
        nodeId,
        created,
      );
    });
    return () =>
      runInDurableObject(
        stub,
        (_obj, state) => void state.storage.sql.exec("DELETE FROM earnings WHERE request_id = 'req_poison'"),
      );
  }

  const abort = (id: string) => adminFetch(`/admin/settlements/${id}/abort`, { method: "POST" });
  const tagged = (node: TestNode) =>
    runInDurableObject(earningsShard(env, earningsShardOf(node.id, earningsShards(env))), (_obj, state) =>
      state.storage.sql
        .exec<{ settlement_id: string | null }>("SELECT settlement_id FROM earnings WHERE node_id = ?", node.id)
        .toArray()
        .map((r) => r.settlement_id),
    );

  it(
    "releases what a close that failed part way held, reopens its period, and the period then closes with " +
      "everything paid",
    async () => {
      const nodes = await oneNodePerShard();
      const [x, y, broken] = [nodes[3], nodes[9], 12] as const;
      if (!x || !y) throw new Error("no nodes");
      const [from, to] = [day(120), day(121)];
      const earned = [await earning(x, from + 10), await earning(y, from + 20), await earning(y, from + 30)];
      await store(earned);
      const cure = await poison(broken, from + 40);

      const failed = await close(from / 1000, to / 1000);
      expect(failed.status).toBe(503);
      const failure = await errorBody(failed);
      expect(failure.code).toBe("settlement_close_failed");
      const id = /settlement '(stl_[^']+)'/.exec(failure.message)?.[1] ?? "";
      expect(failure.message).toContain(`abort it (POST /admin/settlements/${id}/abort)`);
      // Half done: other shards hold their receipts for it, and retrying fails the same way.
      expect(await tagged(x)).toEqual([id]);
      expect((await close(from / 1000, to / 1000)).status).toBe(503);
      const overlap = await close(from / 1000, (to + DAY) / 1000);
      expect(overlap.status).toBe(409);
      expect((await errorBody(overlap)).message).toContain(`or abort it (POST /admin/settlements/${id}/abort)`);

      expect((await SELF.fetch(`${BASE}/admin/settlements/${id}/abort`, { method: "POST" })).status).toBe(401);
      const aborted = await abort(id);
      expect(aborted.status).toBe(200);
      expect(await aborted.json()).toEqual({
        object: "settlement.abort",
        id,
        status: "aborted",
        from,
        to,
        released_receipts: 3,
      });
      expect(await tagged(x)).toEqual([null]);
      expect(await tagged(y)).toEqual([null, null]);
      // A close of the aborted id still under way can no longer tag anything.
      expect(await earningsShard(env, earningsShardOf(x.id, earningsShards(env))).close(id, from, to)).toBeNull();
      expect(await tagged(x)).toEqual([null]);
      // Again: nothing left to release, same answer.
      expect(await (await abort(id)).json()).toMatchObject({ status: "aborted", released_receipts: 0 });
      expect((await get(`/v1/settlements/${id}`)).status).toBe(404);

      await cure();
      const statement = await closed(from, to + DAY);
      expect(statement.id).not.toBe(id);
      expect(await verifiedRequestIds(statement, x)).toEqual(ids(earned.slice(0, 1)));
      expect(await verifiedRequestIds(statement, y)).toEqual(ids(earned.slice(1)));
      expect(await tagged(x)).toEqual([statement.id]);
    },
  );

  it("refuses a closed settlement (409) and an unknown id (404), after the admin token", async () => {
    const statement = await closed(day(130), day(131));
    const res = await abort(statement.id);
    expect(res.status).toBe(409);
    expect(await errorBody(res)).toMatchObject({ code: "settlement_closed", param: "id" });
    expect(await (await get(`/v1/settlements/${statement.id}`)).json()).toEqual(statement);
    for (const unknown of ["stl_nope", "x".repeat(65)]) {
      const missing = await abort(unknown);
      expect(missing.status).toBe(404);
      expect((await errorBody(missing)).code).toBe("settlement_not_found");
    }
    const anonymous = await SELF.fetch(`${BASE}/admin/settlements/stl_nope/abort`, { method: "POST" });
    expect(anonymous.status).toBe(401);
  });
});
