// Billing end to end, through real agents that price their models and sign receipts: a budget holds under 200
// concurrent requests and the ledger matches what the clients received to the token and micro-unit; rate limits
// answer OpenAI's 429s and headers; a node that reports no usage is recorded as estimated, unbilled and distrusted;
// receipts never reach clients; a closed settlement verifies with `node-agent verify-settlement`, and a node whose
// log holds a receipt the gateway did not pay is told so.
import { execFile } from "node:child_process";
import { appendFileSync, copyFileSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { bodyDigest, clientCost, encodeReceipt, nodeAmount, receiptBytes, type Price } from "@meshgate/schemas";
import { readKeyFile } from "@meshgate/node-agent";
import { PROMPT_TEMPLATE_TOKENS } from "@meshgate/worker/billing/token-bounds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../gateway/admin.js";
import { NODE_AGENT_BIN } from "../processes/index.js";
import { CHAT_MODEL, startCluster, type Cluster } from "./support/cluster.js";
import { routedChat } from "./support/routed.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";
import { pollUntil } from "../processes/index.js";

const run = promisify(execFile);
const PRICE: Price = { prompt: 2_000_000, completion: 8_000_000 };
/** wrangler.toml's GATEWAY_FEE_BPS, which the local gateway serves with. */
const FEE_BPS = 500;

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}
interface UsageRow extends Usage {
  request_id: string;
  node_id: string;
  cost: number;
  node_amount: number;
  billable: boolean;
  estimated: boolean;
  receipt_status: string;
}
interface UsageReport {
  totals: Usage & { requests: number; cost: number };
  data: UsageRow[];
}

async function usageOf(cluster: Cluster, apiKey: string, requests: number): Promise<UsageReport> {
  return pollUntil(
    async () => {
      const res = await fetch(`${cluster.gateway.url}/v1/usage?limit=10000`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const report = (await res.json()) as UsageReport;
      return report.totals.requests >= requests ? report : undefined;
    },
    { what: `${requests} requests in the ledger`, timeoutMs: 20_000 },
  );
}

function post(cluster: Cluster, apiKey: string, body: string): Promise<Response> {
  return fetch(`${cluster.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body,
  });
}

describe("billing", E2E, () => {
  let cluster: Cluster;
  let silentNode: string;
  const startedAt = Date.now();
  beforeAll(async () => {
    cluster = await startCluster({
      agents: 3,
      name: "billing",
      // The third node's backend reports no usage: its answers can only be estimated.
      nodes: [
        { prices: { [CHAT_MODEL]: PRICE }, capacity: 256, latencyMs: 200 },
        { prices: { [CHAT_MODEL]: PRICE }, capacity: 256, latencyMs: 200 },
        { prices: { [CHAT_MODEL]: PRICE }, omitUsage: true },
      ],
      vars: { SETTLEMENT_DELAY_MS: "0" },
    });
    silentNode = cluster.agents[2]?.nodeId ?? "";
    // New nodes get two requests at a time until they have answered a few: prove the two good ones first.
    for (const agent of cluster.agents.slice(0, 2)) {
      for (let i = 0; i < 4; i++)
        await routedChat(cluster.client, { extra: { provider: { order: [agent.nodeId], allow_fallbacks: false } } });
    }
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it(
    "holds a budget that covers 50 requests against 200 concurrent ones, and bills exactly what the " + "clients got",
    async () => {
      const body = JSON.stringify({
        model: CHAT_MODEL,
        messages: [{ role: "user", content: "Spend my budget wisely, please." }],
        max_tokens: 8,
        provider: { ignore: [silentNode] },
      });
      const worstCase = clientCost(
        nodeAmount({ prompt_tokens: Buffer.byteLength(body) + PROMPT_TEMPLATE_TOKENS, completion_tokens: 8 }, PRICE),
        FEE_BPS,
      );
      const budget = 50 * worstCase;
      const { key } = await createApiKey(cluster.gateway.url, cluster.adminToken, "budget-50", { budget });

      const responses = await Promise.all(Array.from({ length: 200 }, () => post(cluster, key, body)));
      const answered: { requestId: string; usage: Usage }[] = [];
      for (const res of responses) {
        const json = (await res.json()) as { usage?: Usage; error?: { code: string; type: string } };
        if (res.status === 200 && json.usage)
          answered.push({ requestId: res.headers.get("x-request-id") ?? "", usage: json.usage });
        else
          expect([res.status, json.error?.code, json.error?.type]).toEqual([
            429,
            "insufficient_quota",
            "insufficient_quota",
          ]);
      }
      // The budget covers 50 worst cases, so at least 50 get through; the rest are refused before any node is asked.
      expect(answered.length).toBeGreaterThanOrEqual(50);

      const report = await usageOf(cluster, key, answered.length);
      expect(report.data.map((r) => r.request_id).sort()).toEqual(answered.map((a) => a.requestId).sort());
      const expectedCost = answered.reduce((sum, a) => sum + clientCost(nodeAmount(a.usage, PRICE), FEE_BPS), 0);
      expect(report.totals).toMatchObject({
        requests: answered.length,
        prompt_tokens: answered.reduce((sum, a) => sum + a.usage.prompt_tokens, 0),
        completion_tokens: answered.reduce((sum, a) => sum + a.usage.completion_tokens, 0),
        cost: expectedCost,
      });
      expect(report.data.every((r) => r.billable && r.receipt_status === "ok")).toBe(true);
      expect(expectedCost).toBeLessThanOrEqual(budget);

      // Spent is what was charged; nothing is still held for requests that have finished once the isolate, busy with
      // the key a moment ago, has been idle for a second and given its slice back (billing.md, "Slices").
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const { id } = (
        (await (
          await fetch(`${cluster.gateway.url}/admin/keys`, {
            headers: { authorization: `Bearer ${cluster.adminToken}` },
          })
        ).json()) as {
          data: { id: string; name: string }[];
        }
      ).data.find((k) => k.name === "budget-50") ?? { id: "" };
      const patched = await fetch(`${cluster.gateway.url}/admin/keys/${id}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${cluster.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ budget }),
      });
      expect(await patched.json()).toMatchObject({ budget, spent: expectedCost, reserved: 0 });
      // The next request gets through exactly when what is left still covers its worst case.
      const next = await post(cluster, key, body);
      expect(next.status).toBe(budget - expectedCost >= worstCase ? 200 : 429);
      await next.arrayBuffer();
    },
  );

  it("answers OpenAI's rate-limit headers on every response, and a 429 with Retry-After past the limit", async () => {
    const { key } = await createApiKey(cluster.gateway.url, cluster.adminToken, "rpm-2", { rpm: 2 });
    const body = JSON.stringify({
      model: CHAT_MODEL,
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 2,
      provider: { ignore: [silentNode] },
    });
    const first = await post(cluster, key, body);
    const second = await post(cluster, key, body);
    const third = await post(cluster, key, body);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
    for (const res of [first, second, third]) expect(res.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect(second.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(third.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(ms|s|m\d+s)$|^\d+m\d+s$|^\d+\.?\d*s$/);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe("rate_limit_exceeded");
  });

  it(
    "never shows a client the node's receipt, and still bills a stream whose client did not ask for " + "usage",
    async () => {
      const { key } = await createApiKey(cluster.gateway.url, cluster.adminToken, "receipts-hidden");
      const messages = [{ role: "user", content: "Stream without usage." }];
      const streamed = await post(
        cluster,
        key,
        JSON.stringify({ model: CHAT_MODEL, messages, stream: true, provider: { ignore: [silentNode] } }),
      );
      const text = await streamed.text();
      expect(text).not.toContain("meshgate-receipt");
      expect(text).not.toMatch(/"usage":\s*\{/);
      expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
      const whole = await post(
        cluster,
        key,
        JSON.stringify({ model: CHAT_MODEL, messages, provider: { ignore: [silentNode] } }),
      );
      expect(whole.headers.get("meshgate-receipt")).toBeNull();
      await whole.arrayBuffer();
      const report = await usageOf(cluster, key, 2);
      expect(report.data.map((r) => [r.billable, r.receipt_status, r.completion_tokens > 0])).toEqual([
        [true, "ok", true],
        [true, "ok", true],
      ]);
    },
  );

  it("records a node's unreported usage as an unbilled estimate, and trusts that node less", async () => {
    const { key } = await createApiKey(cluster.gateway.url, cluster.adminToken, "estimated");
    const client = cluster.clientWithKey(key);
    for (let i = 0; i < 3; i++) await routedChat(client, { stream: true, extra: { provider: { only: [silentNode] } } });
    const report = await usageOf(cluster, key, 3);
    for (const row of report.data) {
      expect(row).toMatchObject({
        node_id: silentNode,
        billable: false,
        estimated: true,
        receipt_status: "estimated",
        cost: 0,
      });
      expect(row.completion_tokens).toBeGreaterThan(0);
    }
    const nodes = await pollUntil(
      async () => {
        const res = await fetch(`${cluster.gateway.url}/admin/nodes`, {
          headers: { authorization: `Bearer ${cluster.adminToken}` },
        });
        const list = ((await res.json()) as { data: { id: string; routing: { trust: number } }[] }).data;
        const silent = list.find((n) => n.id === silentNode);
        return silent && silent.routing.trust < 0.8 ? list : undefined;
      },
      { what: "the silent node's trust to fall", timeoutMs: 10_000 },
    );
    const trustOf = (id: string) => nodes.find((n) => n.id === id)?.routing.trust ?? 0;
    expect(trustOf(silentNode)).toBeLessThan(trustOf(cluster.agents[0]?.nodeId ?? ""));
  });

  it(
    "closes a settlement that each node verifies against its own receipt log, and flags a receipt " + "left out",
    async () => {
      // Everything above has been recorded (each test waited for its rows); the period ends now.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      // The period starts well before the first request, so a receipt signed early in it can't pass for a late one, and
      // lasts at least an hour, the shortest a gateway closes.
      const to = Math.floor(Date.now() / 1000);
      const from = Math.min(Math.floor(startedAt / 1000) - 300, to - 3600);
      const created = await fetch(`${cluster.gateway.url}/admin/settlements`, {
        method: "POST",
        headers: { authorization: `Bearer ${cluster.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ from, to }),
      });
      expect(created.status).toBe(201);
      const statement = (await created.json()) as {
        id: string;
        nodes: { node_id: string; receipts: number; amount: number }[];
      };
      const paid = cluster.agents.slice(0, 2).map((a) => statement.nodes.find((n) => n.node_id === a.nodeId));
      expect(paid.every((n) => n !== undefined && n.receipts > 0 && n.amount > 0)).toBe(true);
      // The node that never reported usage has nothing billable.
      expect(statement.nodes.find((n) => n.node_id === silentNode)).toBeUndefined();

      const agent = cluster.agents[0];
      if (!agent) throw new Error("no agent");
      const verify = (logFile: string) =>
        run(process.execPath, [
          NODE_AGENT_BIN,
          "verify-settlement",
          "--gateway",
          cluster.gateway.url,
          "--key-file",
          agent.keyFile,
          "--receipt-log",
          logFile,
          statement.id,
        ]).then(
          (out) => ({ code: 0, stdout: out.stdout }),
          (err: { code?: number; stdout?: string }) => ({ code: err.code ?? -1, stdout: err.stdout ?? "" }),
        );
      const logFile = `${agent.keyFile}.receipts.jsonl`;
      const good = await verify(logFile);
      expect(good.code, good.stdout).toBe(0);

      // A receipt the node signed well inside the period but the gateway never paid: the node must hear about it.
      const identity = await readKeyFile(agent.keyFile);
      const forged = {
        request_id: "req_never_paid",
        node_id: identity.nodeId,
        model: CHAT_MODEL,
        prompt_tokens: 10,
        completion_tokens: 10,
        price: PRICE,
        body_digest: bodyDigest(new TextEncoder().encode("{}")),
        created: (from + 10) * 1000,
      };
      const bytes = receiptBytes(forged);
      const token = encodeReceipt(bytes, await identity.signer.sign(bytes));
      const tampered = `${logFile}.tampered`;
      copyFileSync(logFile, tampered);
      appendFileSync(
        tampered,
        `${JSON.stringify({ receipt: token, request_id: forged.request_id, model: CHAT_MODEL, prompt_tokens: 10, completion_tokens: 10, amount: nodeAmount(forged, PRICE), created: forged.created })}\n`,
      );
      const bad = await verify(tampered);
      expect(bad.code, bad.stdout).toBe(1);
      expect(bad.stdout).toContain("req_never_paid");
      expect(readFileSync(logFile, "utf8")).not.toContain("req_never_paid");

      // The period is closed for good.
      const again = await fetch(`${cluster.gateway.url}/admin/settlements`, {
        method: "POST",
        headers: { authorization: `Bearer ${cluster.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ from: to - 3600, to }),
      });
      expect(again.status).toBe(409);
    },
  );
});
