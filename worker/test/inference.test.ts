import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, inject } from "vitest";
import type { UsageEntry } from "../src/billing/records.js";
import { keyAccount } from "../src/durable/names.js";
import { clientFetch, createApiKey, errorBody, newNode, registerRoutable, type TestNode } from "./helpers.js";

const fleet = inject("fleet");

async function liveNode(model: string, url: string, over: { capacity?: number } = {}): Promise<TestNode> {
  const node = await newNode();
  const res = await registerRoutable(node, {
    url,
    models: [{ id: model, owned_by: "meshgate-simulated-backend" }],
    ...over,
  });
  expect(res.status).toBe(200);
  return node;
}

const chat = (model: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, messages: [{ role: "user", content: "hello there mesh" }], max_tokens: 5, ...extra });

interface UsageReport {
  totals: { requests: number; prompt_tokens: number; completion_tokens: number; total_tokens: number };
  data: {
    request_id: string;
    node_id: string;
    model: string;
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    status: number;
    streamed: boolean;
  }[];
}

/** Usage is written off the response path; poll until `count` rows have landed. */
async function usageOf(key: string, count: number): Promise<UsageReport> {
  for (let i = 0; i < 200; i++) {
    const report = (await (await clientFetch("/v1/usage", key)).json()) as UsageReport;
    if (report.totals.requests >= count) return report;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`usage never reached ${count} rows`);
}

function sseEvents(text: string): string[] {
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((e) => e.replace(/^data: /, ""));
}

describe("POST /v1/chat/completions through a signed node", () => {
  it("answers a non-streamed chat, names the node, and meters the node's usage", async () => {
    const node = await liveNode("chat-basic", fleet.agent);
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/chat/completions", key, { method: "POST", body: chat("chat-basic") });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-meshgate-node")).toBe(node.id);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    const body = (await res.json()) as {
      object: string;
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    expect(body.object).toBe("chat.completion");
    expect(body.usage.completion_tokens).toBe(5);

    const report = await usageOf(key, 1);
    expect(report.totals).toMatchObject({ requests: 1, ...body.usage });
    expect(report.data[0]).toMatchObject({
      request_id: res.headers.get("x-request-id"),
      node_id: node.id,
      model: "chat-basic",
      status: 200,
      streamed: false,
    });
  });

  it("accepts request fields the gateway does not know (tools, seed, response_format) and passes them on", async () => {
    await liveNode("chat-basic", fleet.agent);
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/chat/completions", key, {
      method: "POST",
      body: chat("chat-basic", {
        tools: [{ type: "function", function: { name: "f", parameters: {} } }],
        seed: 7,
        response_format: { type: "text" },
      }),
    });
    expect(res.status).toBe(200);
  });

  it("streams chunk by chunk; hides the usage chunk it added, yet meters it", async () => {
    await liveNode("chat-stream", fleet.agent);
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/chat/completions", key, {
      method: "POST",
      body: chat("chat-stream", { stream: true }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = sseEvents(await res.text());
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: unknown[]; usage?: unknown });
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks.some((c) => c.usage)).toBe(false);
    const report = await usageOf(key, 1);
    expect(report.totals.completion_tokens).toBe(5);
    expect(report.data[0]?.streamed).toBe(true);
  });

  it("passes the usage chunk through when the client asked for it", async () => {
    await liveNode("chat-stream", fleet.agent);
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/chat/completions", key, {
      method: "POST",
      body: chat("chat-stream", { stream: true, stream_options: { include_usage: true } }),
    });
    const events = sseEvents(await res.text());
    const usageChunks = events
      .filter((e) => e !== "[DONE]")
      .map((e) => JSON.parse(e) as { choices: unknown[]; usage: unknown })
      .filter((c) => c.usage);
    expect(usageChunks).toHaveLength(1);
    expect(usageChunks[0]?.choices).toEqual([]);
    const report = await usageOf(key, 1);
    expect(report.totals).toMatchObject(usageChunks[0]!.usage as object);
  });

  it(
    "fails over from a node answering 500 and from an unreachable node, billing once to the node that " + "answered",
    async () => {
      const failing = await liveNode("chat-failover", fleet.failing);
      const dead = await liveNode("chat-failover", fleet.dead);
      const good = await liveNode("chat-failover", fleet.agent);
      const { key } = await createApiKey();
      // The first request names the bad nodes first (left alone, the router would soon stop choosing them).
      const attempts = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const body = chat("chat-failover", i === 0 ? { provider: { order: [failing.id, dead.id] } } : {});
        const res = await clientFetch("/v1/chat/completions", key, { method: "POST", body });
        expect(res.status).toBe(200);
        expect(res.headers.get("x-meshgate-node")).toBe(good.id);
        attempts.add(res.headers.get("x-meshgate-attempts")!);
        await res.arrayBuffer();
      }
      expect(attempts.has("3")).toBe(true);
      const report = await usageOf(key, 12);
      expect(report.totals.requests).toBe(12);
      expect(new Set(report.data.map((r) => r.node_id))).toEqual(new Set([good.id]));
    },
  );

  it("fails over from a node answering 204 (no body: not an answer), and does not count it as a success", async () => {
    const empty = await liveNode("chat-204", fleet.noContent);
    const good = await liveNode("chat-204", fleet.agent);
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/chat/completions", key, {
      method: "POST",
      body: chat("chat-204", { provider: { order: [empty.id] } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-meshgate-node")).toBe(good.id);
    expect(res.headers.get("x-meshgate-attempts")).toBe("2");
    expect(res.headers.get("server-timing")).toMatch(
      /^gateway;dur=[\d.]+;desc="gateway overhead", admit;dur=[\d.]+;desc="node slots from admission cells", failover;dur=[\d.]+;desc="failed attempts", node;dur=[\d.]+/,
    );
    await res.arrayBuffer();
  });

  it("answers 502 when every node tried fails", async () => {
    await liveNode("chat-dead", fleet.dead);
    await liveNode("chat-dead", fleet.failing);
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/chat/completions", key, { method: "POST", body: chat("chat-dead") });
    expect(res.status).toBe(502);
    expect(await errorBody(res)).toMatchObject({ type: "api_error", code: "upstream_error" });
    expect(res.headers.get("x-meshgate-node")).toBe("none");
  });

  it("answers 503 with Retry-After when every node is busy", async () => {
    await liveNode("chat-busy", fleet.busy);
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/chat/completions", key, { method: "POST", body: chat("chat-busy") });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect((await errorBody(res)).code).toBe("no_capacity");
  });

  it("passes a node's 4xx through without failing over", async () => {
    // The node advertises a model its backend does not know, so the backend answers 404: the client's problem to see,
    // not a node failure to route around.
    const node = await liveNode("chat-4xx-unknown-upstream", fleet.agent);
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/chat/completions", key, {
      method: "POST",
      body: chat("chat-4xx-unknown-upstream"),
    });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-meshgate-attempts")).toBe("1");
    expect(res.headers.get("x-meshgate-node")).toBe(node.id);
    expect((await errorBody(res)).code).toBe("model_not_found");
  });

  it("answers 404 model_not_found for a model no live node serves", async () => {
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/chat/completions", key, { method: "POST", body: chat("no-such-model") });
    expect(res.status).toBe(404);
    expect(await errorBody(res)).toEqual({
      message: "The model `no-such-model` does not exist or you do not have access to it.",
      type: "not_found_error",
      param: "model",
      code: "model_not_found",
    });
  });

  it("answers 400 naming the field for schema violations, and 413 for oversized bodies", async () => {
    const { key } = await createApiKey();
    const bad = await clientFetch("/v1/chat/completions", key, {
      method: "POST",
      body: JSON.stringify({ model: "m", messages: [] }),
    });
    expect(bad.status).toBe(400);
    expect((await errorBody(bad)).param).toBe("messages");
    const broken = await clientFetch("/v1/chat/completions", key, { method: "POST", body: "{" });
    expect((await errorBody(broken)).code).toBe("invalid_json");
    const big = await clientFetch("/v1/chat/completions", key, {
      method: "POST",
      body: chat("m", { padding: "x".repeat(5 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
  });

  it("records usage idempotently on request id", async () => {
    const node = await liveNode("chat-usage", fleet.agent);
    const { id, key } = await createApiKey();
    const res = await clientFetch("/v1/chat/completions", key, { method: "POST", body: chat("chat-usage") });
    await res.json();
    const first = await usageOf(key, 1);
    const row = first.data[0]!;
    const again: UsageEntry = {
      ...row,
      created: Date.now(),
      key_id: id,
      latency_ms: 1,
      node_id: node.id,
      cost: 0,
      node_amount: 0,
      billable: false,
      estimated: false,
      receipt_status: "missing",
      receipt: null,
      slice_id: null,
    };
    const inserted = await runInDurableObject(keyAccount(env, id), (account) => account.record([again], Date.now()));
    expect(inserted).toBe(0);
    expect((await usageOf(key, 1)).totals).toEqual(first.totals);
  });
});

describe("POST /v1/completions and /v1/embeddings", () => {
  it("serves completions, streamed and not", async () => {
    await liveNode("chat-basic", fleet.agent);
    const { key } = await createApiKey();
    const plain = await clientFetch("/v1/completions", key, {
      method: "POST",
      body: JSON.stringify({ model: "chat-basic", prompt: "say hi", max_tokens: 3 }),
    });
    expect(((await plain.json()) as { object: string }).object).toBe("text_completion");
    const streamed = await clientFetch("/v1/completions", key, {
      method: "POST",
      body: JSON.stringify({ model: "chat-basic", prompt: "say hi", max_tokens: 3, stream: true }),
    });
    expect(sseEvents(await streamed.text()).at(-1)).toBe("[DONE]");
    const report = await usageOf(key, 2);
    expect(report.totals.completion_tokens).toBe(6);
  });

  it("serves embeddings and meters prompt tokens", async () => {
    await liveNode("embed-basic", fleet.agent);
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/embeddings", key, {
      method: "POST",
      body: JSON.stringify({ model: "embed-basic", input: ["one two", "three"] }),
    });
    const body = (await res.json()) as {
      data: { embedding: number[] }[];
      usage: { prompt_tokens: number; total_tokens: number };
    };
    expect(body.data).toHaveLength(2);
    const report = await usageOf(key, 1);
    expect(report.totals).toMatchObject({
      prompt_tokens: body.usage.prompt_tokens,
      completion_tokens: 0,
      total_tokens: body.usage.total_tokens,
    });
  });

  it("validates embeddings input", async () => {
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/embeddings", key, {
      method: "POST",
      body: JSON.stringify({ model: "embed-basic", input: { nope: 1 } }),
    });
    expect(res.status).toBe(400);
    expect((await errorBody(res)).param).toBe("input");
  });
});

describe("GET /v1/models", () => {
  it("lists models served by live nodes in OpenAI's shape, and retrieves one", async () => {
    await liveNode("chat-basic", fleet.agent);
    const { key } = await createApiKey();
    const list = (await (await clientFetch("/v1/models", key)).json()) as {
      object: string;
      data: { id: string; object: string; owned_by: string; created: number }[];
    };
    expect(list.object).toBe("list");
    const model = list.data.find((m) => m.id === "chat-basic");
    expect(model).toMatchObject({
      object: "model",
      owned_by: "meshgate-simulated-backend",
      created: expect.any(Number),
    });
    const one = await clientFetch("/v1/models/chat-basic", key);
    expect(await one.json()).toMatchObject({ id: "chat-basic", object: "model" });
    const garbled = await clientFetch("/v1/models/%E0", key);
    expect(garbled.status).toBe(400);
    expect((await errorBody(garbled)).param).toBe("model");
    const missing = await clientFetch("/v1/models/nope", key);
    expect(missing.status).toBe(404);
    expect((await errorBody(missing)).code).toBe("model_not_found");
  });
});
