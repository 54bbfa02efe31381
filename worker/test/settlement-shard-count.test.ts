// Settlement when EARNINGS_SHARDS changes: between periods or in the middle of one, a node's receipts may sit in two
// shards (stored under the old count and the new). Every receipt is still paid once, each node appears once in its
// statement, and its proofs are served from where its close gathered them, whatever the count is later.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  EMPTY_ROOT,
  fromHex,
  SettlementProofSchema,
  SettlementStatementSchema,
  verifyMerkleProof,
  type SettlementStatement,
} from "@meshgate/schemas";
import type { Earning } from "../src/billing/records.js";
import { earningsShard, earningsShardOf } from "../src/durable/names.js";
import type { GatewayRequest } from "../src/http/request-id.js";
import { closeSettlementRoute, settlementProofRoute } from "../src/routes/settlements.js";
import { newNode, signedEarning, type TestNode } from "./helpers.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const PRICE = { prompt: 150_000, completion: 600_000 };
/** Days of 2021: the other settlement tests close days of 2020. */
const day = (n: number) => Date.UTC(2021, 0, 1) + n * DAY;

let requests = 0;

function earning(node: TestNode, created: number): Promise<Earning> {
  return signedEarning(node, `req_count_${++requests}`, created, { prompt_tokens: 100, completion_tokens: 20 }, PRICE);
}

/** Stores receipts as a deployment with `shards` earnings shards does. */
async function storeUnder(shards: number, earnings: Earning[]): Promise<void> {
  for (const e of earnings) await earningsShard(env, earningsShardOf(e.node_id, shards)).add([e], Date.now());
}

const withShards = (shards: number): Env => ({ ...env, EARNINGS_SHARDS: String(shards) }) as unknown as Env;

function request(url: string, init: RequestInit, params: Record<string, string> = {}): GatewayRequest {
  const headers = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
  const req = new Request(`https://gateway.test${url}`, { ...init, headers });
  return Object.assign(req, { id: "req_test", params, query: {}, proxy: undefined }) as GatewayRequest;
}

async function closeUnder(shards: number, from: number, to: number): Promise<SettlementStatement> {
  const body = JSON.stringify({ from: from / 1000, to: to / 1000 });
  const res = await closeSettlementRoute(request("/admin/settlements", { method: "POST", body }), withShards(shards));
  expect(res.status).toBe(201);
  return SettlementStatementSchema.parse(await res.json());
}

/** The node's receipts in the statement, each proved to its root, as served under `shards`. */
async function provedIds(shards: number, statement: SettlementStatement, node: TestNode): Promise<string[]> {
  const url = `/v1/settlements/${statement.id}/proof?node=${node.id}`;
  const res = await settlementProofRoute(request(url, { method: "GET" }, { id: statement.id }), withShards(shards));
  expect(res.status).toBe(200);
  const proof = SettlementProofSchema.parse(await res.json());
  const bytes = (hex: string) => fromHex(hex) ?? EMPTY_ROOT;
  for (const leaf of proof.leaves)
    expect(verifyMerkleProof(bytes(leaf.leaf), leaf.proof.map(bytes), bytes(statement.merkle_root))).toBe(true);
  return proof.leaves.map((l) => l.receipt).sort();
}

const receiptsOf = (earnings: Earning[], node: TestNode) =>
  earnings
    .filter((e) => e.node_id === node.id)
    .map((e) => e.receipt)
    .sort();

describe("settlement across a change of the earnings shard count", () => {
  it("pays every receipt once, each node once, when the count rises mid-period and falls after it", async () => {
    const nodes = [await newNode(), await newNode(), await newNode(), await newNode()];
    // Period one: receipts stored under 16 shards, then under 32 (the count raised in the middle of the period).
    const early = await Promise.all(nodes.map((n, i) => earning(n, day(0) + i * HOUR)));
    const late = await Promise.all(nodes.map((n, i) => earning(n, day(0) + (12 + i) * HOUR)));
    await storeUnder(16, early);
    await storeUnder(32, late);
    const first = await closeUnder(32, day(0), day(1));
    expect(first.receipts).toBe(8);
    expect(first.nodes.map((n) => n.node_id)).toEqual(nodes.map((n) => n.id).sort());
    expect(first.nodes.every((n) => n.receipts === 2)).toBe(true);

    // Period two, under 4 shards, with a receipt from an isolate still on 32: every shard 32 ever used is read.
    const next = await Promise.all(nodes.map((n, i) => earning(n, day(1) + i * HOUR)));
    const straggler = await earning(nodes[0] as TestNode, day(1) + 20 * HOUR);
    await storeUnder(4, next);
    await storeUnder(32, [straggler]);
    const second = await closeUnder(4, day(1), day(2));
    expect(second.receipts).toBe(5);
    expect(second.nodes.map((n) => n.node_id)).toEqual(nodes.map((n) => n.id).sort());

    // Proofs come from where each close gathered them, whatever the count is now.
    for (const node of nodes) {
      expect(await provedIds(8, first, node)).toEqual(receiptsOf([...early, ...late], node));
      expect(await provedIds(8, second, node)).toEqual(receiptsOf([...next, straggler], node));
    }
  });
});
