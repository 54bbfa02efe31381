// Billing through the real request path in the Workers runtime, against fleet agents that sign receipts as a node:
// an honest node's answer is billed at its price plus the fee, a node whose receipt overstates its tokens is not
// billed and loses trust, and a budget refuses the request it can no longer cover.
import { clientCost, nodeAmount } from "@meshgate/schemas";
import { PROMPT_TEMPLATE_TOKENS } from "../src/billing/token-bounds.js";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { adminFetch, clientFetch, errorBody, newNode, registerRoutable, type TestNode } from "./helpers.js";
import { FLEET_PRICE } from "./fleet/bindings.js";

const fleet = inject("fleet");
const FEE_BPS = 500;

interface Row {
  request_id: string;
  prompt_tokens: number;
  completion_tokens: number;
  cost: number;
  billable: boolean;
  receipt_status: string;
}

/** Registers the node a fleet agent signs as (once per file: a node's heartbeats must keep counting up). */
async function pricedNode(seed: string, url: string, models: string[]): Promise<TestNode> {
  const node = await newNode(seed);
  const res = await registerRoutable(node, {
    url,
    models: models.map((id) => ({ id, owned_by: "meshgate-simulated-backend", price: FLEET_PRICE })),
  });
  expect(res.status).toBe(200);
  return node;
}

async function rowsOf(key: string, count: number): Promise<Row[]> {
  for (let i = 0; i < 200; i++) {
    const report = (await (await clientFetch("/v1/usage", key)).json()) as { data: Row[] };
    if (report.data.length >= count) return report.data;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`usage never reached ${count} rows`);
}

async function newKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const res = await adminFetch("/admin/keys", { method: "POST", body: JSON.stringify({ name: "billing", ...body }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; key: string };
}

const chat = (model: string, stream = false) =>
  JSON.stringify({ model, messages: [{ role: "user", content: "bill me exactly" }], max_tokens: 4, stream });

describe("billing through the request path", () => {
  beforeAll(async () => {
    await pricedNode(fleet.signingSeed, fleet.signing, ["chat-billing", "chat-budget"]);
  });

  it("bills an answer with a matching receipt at the node's price plus the fee, streamed or not", async () => {
    const { key } = await newKey({});
    const whole = await clientFetch("/v1/chat/completions", key, { method: "POST", body: chat("chat-billing") });
    const usage = ((await whole.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    expect(whole.headers.get("meshgate-receipt")).toBeNull();
    const streamed = await clientFetch("/v1/chat/completions", key, {
      method: "POST",
      body: chat("chat-billing", true),
    });
    expect(await streamed.text()).not.toContain("meshgate-receipt");
    const rows = await rowsOf(key, 2);
    const expected = clientCost(nodeAmount(usage, FLEET_PRICE), FEE_BPS);
    expect(expected).toBeGreaterThan(0);
    for (const row of rows)
      expect(row).toMatchObject({
        billable: true,
        receipt_status: "ok",
        cost: expected,
        prompt_tokens: usage.prompt_tokens,
      });
  });

  it("bills a Responses API answer exactly as a chat answer: receipt checked, node's price plus the fee", async () => {
    const { key } = await newKey({});
    const body = (stream: boolean) =>
      JSON.stringify({ model: "chat-billing", input: "bill me exactly", max_output_tokens: 4, stream });
    const whole = await clientFetch("/v1/responses", key, { method: "POST", body: body(false) });
    const usage = ((await whole.json()) as { usage: { input_tokens: number; output_tokens: number } }).usage;
    const streamed = await clientFetch("/v1/responses", key, { method: "POST", body: body(true) });
    // The simulated model uses up an explicit cap: the response ends incomplete, as OpenAI's does at max_output_tokens.
    expect(await streamed.text()).toContain("event: response.incomplete");
    const expected = clientCost(
      nodeAmount({ prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens }, FLEET_PRICE),
      FEE_BPS,
    );
    expect(expected).toBeGreaterThan(0);
    for (const row of await rowsOf(key, 2))
      expect(row).toMatchObject({
        billable: true,
        receipt_status: "ok",
        cost: expected,
        prompt_tokens: usage.input_tokens,
        completion_tokens: usage.output_tokens,
      });
  });

  it("does not bill an answer whose receipt overstates the tokens, and trusts that node less", async () => {
    const liar = await pricedNode(fleet.liarSeed, fleet.liar, ["chat-liar"]);
    const { key } = await newKey({});
    for (let i = 0; i < 2; i++) {
      const res = await clientFetch("/v1/chat/completions", key, { method: "POST", body: chat("chat-liar") });
      // The client was served all the same.
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    for (const row of await rowsOf(key, 2))
      expect(row).toMatchObject({ billable: false, receipt_status: "mismatch", cost: 0 });
    for (let i = 0; i < 100; i++) {
      const nodes = (await (await adminFetch("/admin/nodes")).json()) as {
        data: { id: string; routing: { trust: number } }[];
      };
      const trust = nodes.data.find((n) => n.id === liar.id)?.routing.trust ?? 1;
      if (trust < 0.75) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("the lying node's trust never fell");
  });

  it("refuses a request its key's budget can no longer cover, before any node is asked", async () => {
    const body = chat("chat-budget");
    const promptTokens = new TextEncoder().encode(body).length + PROMPT_TEMPLATE_TOKENS;
    const worstCase = clientCost(
      nodeAmount({ prompt_tokens: promptTokens, completion_tokens: 4 }, FLEET_PRICE),
      FEE_BPS,
    );
    const { key } = await newKey({ budget: worstCase });
    const first = await clientFetch("/v1/chat/completions", key, { method: "POST", body });
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const [row] = await rowsOf(key, 1);
    expect(row?.cost).toBeGreaterThan(0);
    expect(row?.cost).toBeLessThan(worstCase);
    const second = await clientFetch("/v1/chat/completions", key, { method: "POST", body });
    expect(second.status).toBe(429);
    expect(await errorBody(second)).toMatchObject({ type: "insufficient_quota", code: "insufficient_quota" });
    expect((await rowsOf(key, 1)).length).toBe(1);
  });
});
