// The bill is bounded by what the gateway saw, end to end with real processes. Strangers on both sides try it:
// a dishonest operator runs a stock agent in front of a lying inference server (the agent signs whatever its upstream
// reports), a modified agent heartbeats a price of its own, and clients shape requests to get answers free or have an
// honest node blamed. Each attack is tried as it was reproduced against 392b488; afterwards a settlement closes and
// every honest node verifies it.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { appendFileSync, copyFileSync } from "node:fs";
import { bodyDigest, encodeReceipt, nodeAmount, receiptBytes, utf8, type Price } from "@meshgate/schemas";
import { readKeyFile } from "@meshgate/node-agent";
import { CHOICE_END_TOKENS, PROMPT_TEMPLATE_TOKENS, TOOL_CALL_TOKENS } from "@meshgate/worker/billing/token-bounds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../gateway/admin.js";
import { waitForNode } from "../gateway/nodes.js";
import { NODE_AGENT_BIN, pollUntil, startNodeAgent, type NodeAgent } from "../processes/index.js";
import { CHAT_MODEL, startCluster, type Cluster } from "./support/cluster.js";
import { newTestNode, send, signedNodeRequest } from "./support/heartbeat.js";
import { startTamperingProxy } from "./support/tampering-proxy.js";
import { startLyingUpstream, type LyingUpstream } from "./support/lying-upstream.js";
import { EXPLORE_BELOW_SAMPLES } from "../../worker/src/routing/node-estimates.js";
import { quietSink } from "./support/quiet.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const run = promisify(execFile);
const CHEAP: Price = { prompt: 100_000, completion: 400_000 };
const DEAR: Price = { prompt: 5_000_000, completion: 20_000_000 };
/** wrangler.toml's PRICE_CEILINGS default: the most any node may charge. */
const CEILING: Price = { prompt: 10_000_000, completion: 40_000_000 };
const CONTEXT = 4_096;

interface Row {
  request_id: string;
  node_id: string;
  prompt_tokens: number;
  completion_tokens: number;
  cost: number;
  billable: boolean;
  receipt_status: string;
}

describe("billing attacks", E2E, () => {
  let cluster: Cluster;
  let upstream: LyingUpstream;
  let liar: NodeAgent;
  let cheap: string;
  let dear: string;
  let streamer: string;
  /** Agents in front of the lying upstream started by one test each (one blamed node is soon ejected). */
  const liars: NodeAgent[] = [];
  let cappedHidden = "";
  const freshLiar = async (name: string, extra: { publicUrl?: string } = {}): Promise<NodeAgent> => {
    const agent = await startNodeAgent({
      name,
      gatewayUrl: cluster.gateway.url,
      upstreamUrl: upstream.url,
      keyFile: join(cluster.scratch, `${name}.key`),
      sink: quietSink(name),
      prices: { [CHAT_MODEL]: CEILING },
      ...extra,
    });
    liars.push(agent);
    return agent;
  };

  const url = (path: string) => `${cluster.gateway.url}${path}`;
  const post = (key: string, path: string, body: unknown, signal?: AbortSignal) =>
    fetch(url(path), {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  const chat = (extra: Record<string, unknown>) => ({
    model: CHAT_MODEL,
    messages: [{ role: "user", content: "one two three four" }],
    ...extra,
  });
  const newKey = async (name: string, limits: { budget?: number; tpm?: number } = {}) =>
    (await createApiKey(cluster.gateway.url, cluster.adminToken, name, limits)).key;
  const rows = (key: string, count: number): Promise<Row[]> =>
    pollUntil(
      async () => {
        const res = await fetch(url("/v1/usage?limit=1000"), { headers: { authorization: `Bearer ${key}` } });
        const report = (await res.json()) as { data: Row[] };
        return report.data.length >= count ? report.data : undefined;
      },
      { what: `${count} usage rows`, timeoutMs: 20_000 },
    );
  const trustOf = async (nodeId: string): Promise<number> => {
    const res = await fetch(url("/admin/nodes"), { headers: { authorization: `Bearer ${cluster.adminToken}` } });
    return (
      ((await res.json()) as { data: { id: string; routing: { trust: number } }[] }).data.find((n) => n.id === nodeId)
        ?.routing.trust ?? -1
    );
  };

  beforeAll(async () => {
    cluster = await startCluster({
      agents: 3,
      name: "attacks",
      nodes: [
        { prices: { [CHAT_MODEL]: CHEAP }, capacity: 64, contextLength: CONTEXT },
        { prices: { [CHAT_MODEL]: DEAR }, capacity: 64 },
        { prices: { [CHAT_MODEL]: CHEAP }, capacity: 8, tokenIntervalMs: 2 },
      ],
      vars: { SETTLEMENT_DELAY_MS: "0" },
    });
    [cheap, dear, streamer] = cluster.agents.map((a) => a.nodeId) as [string, string, string];
    upstream = await startLyingUpstream([CHAT_MODEL], { kind: "inflate", completionTokens: 100_000_000 });
    liar = await startNodeAgent({
      name: "liar",
      gatewayUrl: cluster.gateway.url,
      upstreamUrl: upstream.url,
      keyFile: join(cluster.scratch, "liar.key"),
      sink: quietSink("liar"),
      prices: { [CHAT_MODEL]: CEILING },
    });
    await waitForNode(cluster.gateway.url, liar.nodeId);
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    for (const agent of liars) await agent.process.stop();
    await liar?.process.stop();
    await upstream?.close();
    await cluster?.stop();
  }, SETUP_TIMEOUT_MS);

  it("refuses a heartbeat priced above the ceiling, naming it, and publishes the ceiling", async () => {
    const node = await newTestNode();
    const now = Date.now();
    const heartbeat = {
      node_id: node.id,
      url: "http://127.0.0.1:9",
      capacity: 8,
      in_flight: 0,
      timestamp: now,
      seq: now,
      models: [{ id: CHAT_MODEL, price: { prompt: 1_000_000_000_000, completion: 1_000_000_000_000 } }],
    };
    const res = await send(await signedNodeRequest(cluster.gateway.url, "/v1/nodes/heartbeat", node, heartbeat, now));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; param: string; message: string } };
    expect(error).toMatchObject({ code: "price_above_ceiling", param: "models[0].price" });
    expect(error.message).toContain(`${CEILING.prompt}:${CEILING.completion}`);
    const wellKnown = (await (await fetch(url("/.well-known/meshgate.json"))).json()) as { price_ceilings: unknown };
    expect(wellKnown.price_ceilings).toEqual({ default: CEILING, models: {} });
  });

  it(
    "never reads usage from a node's 4xx: reports keep answering, a tpm key keeps working, the error comes in " +
      "OpenAI's shape",
    async () => {
      const key = await newKey("tpm-key", { tpm: 100_000 });
      upstream.lie = {
        kind: "error_with_usage",
        status: 400,
        message: "Your session expired.\u001b[31m Re-authenticate now.",
        usage: { prompt_tokens: 1, completion_tokens: 2 ** 53 - 2, total_tokens: 2 ** 53 - 1 },
      };
      const refused = await post(key, "/v1/chat/completions", chat({ provider: { only: [liar.nodeId] } }));
      expect(refused.status).toBe(400);
      const body = (await refused.json()) as { error: { message: string; type: string; param: null; code: null } };
      expect(body.error).toEqual({
        message: "The node serving this request answered 400: Your session expired. [31m Re-authenticate now.",
        type: "invalid_request_error",
        param: null,
        code: null,
      });
      const [row] = await rows(key, 1);
      expect(row).toMatchObject({ billable: false, cost: 0, prompt_tokens: 0, completion_tokens: 0 });
      for (const path of ["/v1/usage", "/v1/usage?group_by=day"])
        expect((await fetch(url(path), { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
      expect(
        (await fetch(url("/admin/usage"), { headers: { authorization: `Bearer ${cluster.adminToken}` } })).status,
      ).toBe(200);
      const next = await post(key, "/v1/chat/completions", chat({ max_tokens: 4, provider: { only: [cheap] } }));
      expect(next.status).toBe(200);
      await next.arrayBuffer();
    },
  );

  it(
    "does not bill an upstream's 100,000,000-token claim for a two-token answer, holds it against the node, and " +
      "jams nothing",
    async () => {
      const key = await newKey("no-budget");
      upstream.lie = { kind: "inflate", completionTokens: 100_000_000 };
      let answered = 0;
      for (let i = 0; i < 12; i++) {
        const res = await post(
          key,
          "/v1/chat/completions",
          chat({ stream: i % 2 === 0, provider: { only: [liar.nodeId] } }),
        );
        if (res.status === 200) answered++;
        await res.arrayBuffer();
      }
      expect(answered).toBeGreaterThanOrEqual(2);
      for (const row of await rows(key, answered)) {
        expect(row).toMatchObject({ node_id: liar.nodeId, billable: false, cost: 0, receipt_status: "mismatch" });
        // What is recorded is the bound: two tokens relayed, a few per choice that decode to nothing.
        expect(row.completion_tokens).toBeLessThan(20);
      }
      await pollUntil(async () => ((await trustOf(liar.nodeId)) < (await trustOf(cheap)) ? true : undefined), {
        what: "the liar's trust to fall",
        timeoutMs: 10_000,
      });
    },
  );

  it("validates n and bills 50 prompts of a completions request in full, without blaming the honest node", async () => {
    const key = await newKey("prompts");
    const half = await post(key, "/v1/chat/completions", chat({ n: 1.5 }));
    expect([half.status, ((await half.json()) as { error: { param: string } }).error.param]).toEqual([400, "n"]);
    const hidden = await post(key, "/v1/completions", { model: CHAT_MODEL, prompt: "a", n: 1, best_of: 3 });
    expect([hidden.status, ((await hidden.json()) as { error: { param: string } }).error.param]).toEqual([
      400,
      "best_of",
    ]);
    const prompts = Array.from({ length: 50 }, (_, i) => `prompt number ${i}`);
    for (let i = 0; i < 3; i++) {
      const res = await post(key, "/v1/completions", {
        model: CHAT_MODEL,
        prompt: prompts,
        max_tokens: 16,
        provider: { only: [cheap] },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { choices: unknown[] }).choices).toHaveLength(50);
    }
    for (const row of await rows(key, 3))
      expect(row).toMatchObject({ billable: true, receipt_status: "ok", completion_tokens: 800 });
    expect(await trustOf(cheap)).toBeGreaterThan(0.9);
  });

  it("models a backend's own length field (llama.cpp's n_predict) in the worst case and the bill", async () => {
    const key = await newKey("n-predict", { budget: 10_000_000 });
    const res = await post(
      key,
      "/v1/chat/completions",
      chat({ max_tokens: 4, n_predict: 40, provider: { only: [cheap] } }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(40);
    expect((await rows(key, 1))[0]).toMatchObject({ billable: true, receipt_status: "ok", completion_tokens: 40 });
  });

  it("stops the node when a client stops a stream, and bills what was produced", async () => {
    const key = await newKey("abort");
    const backend = cluster.backends[2]!;
    const abort = new AbortController();
    const res = await post(
      key,
      "/v1/chat/completions",
      chat({ stream: true, max_tokens: 2_000, provider: { only: [streamer] } }),
      abort.signal,
    );
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = 0;
    while (seen < 50) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += (decoder.decode(value, { stream: true }).match(/"content":"[^"]/g) ?? []).length;
    }
    abort.abort();
    const [row] = await rows(key, 1);
    expect(row).toMatchObject({ billable: true, receipt_status: "partial" });
    expect(row!.cost).toBeGreaterThan(0);
    expect(row!.completion_tokens).toBeGreaterThanOrEqual(50);
    expect(row!.completion_tokens).toBeLessThan(1_000);
    const stats = backend.stats();
    expect(stats.streamsAbandoned).toBeGreaterThanOrEqual(1);
    expect(stats.streamEvents).toBeLessThan(1_000);
  });

  it("still bills a client that leaves just before the usage chunk", async () => {
    const key = await newKey("leave-late");
    const abort = new AbortController();
    const res = await post(
      key,
      "/v1/chat/completions",
      chat({ stream: true, max_tokens: 20, provider: { only: [streamer] } }),
      abort.signal,
    );
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes('"finish_reason":"length"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    abort.abort();
    const [row] = await rows(key, 1);
    expect(row!.billable).toBe(true);
    expect(row!.completion_tokens).toBeGreaterThanOrEqual(19);
  });

  it("changes nothing in a budgeted request: no cap is added, and a 4,096-token model answers", async () => {
    const key = await newKey("budget-context", { budget: 10_000_000 });
    const res = await post(key, "/v1/chat/completions", chat({ provider: { only: [cheap] } }));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(cluster.backends[0]!.stats().lastBodyKeys).not.toContain("max_tokens");
  });

  it(
    "releases a finished request's reservation at once: 20 sequential requests fit a budget of three worst " + "cases",
    async () => {
      // Worst case at the cheap node: the prompt bound and the cap, at its price, plus the 5% fee; each answer costs a
      // fraction of it, so only reservations held after their answers could exhaust the budget.
      const body = chat({ max_tokens: 8, provider: { only: [cheap] } });
      const promptBound = Buffer.byteLength(JSON.stringify(body)) + PROMPT_TEMPLATE_TOKENS;
      const amount = Math.ceil((promptBound * CHEAP.prompt + 8 * CHEAP.completion) / 1e6);
      const worst = amount + Math.ceil((amount * 500) / 10_000);
      const key = await newKey("sequential", { budget: 3 * worst });
      for (let i = 0; i < 20; i++) {
        const res = await post(key, "/v1/chat/completions", body);
        expect(res.status, await res.clone().text()).toBe(200);
        await res.arrayBuffer();
      }
    },
  );

  it("passes over a node too dear for what is left of a budget, for one that fits", async () => {
    const key = await newKey("too-dear", { budget: 1_000 });
    for (let i = 0; i < 5; i++) {
      const res = await post(
        key,
        "/v1/chat/completions",
        chat({ max_tokens: 100, provider: { order: [dear, cheap] } }),
      );
      expect(res.status).toBe(200);
      expect(res.headers.get("x-meshgate-node")).toBe(cheap);
      await res.arrayBuffer();
    }
  });

  it("routes almost nothing by default to a node priced far above its peers", async () => {
    const key = await newKey("price-aware");
    // Every node proven first (3 answers each): until then a proven node is preferred to unproven ones whatever its
    // price (new identities get only the exploration share), which is not what this measures.
    for (const node of [cheap, dear, streamer]) {
      for (let i = 0; i < EXPLORE_BELOW_SAMPLES; i++) {
        const res = await post(key, "/v1/chat/completions", chat({ max_tokens: 2, provider: { only: [node] } }));
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
    }
    const served = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const res = await post(key, "/v1/chat/completions", chat({ max_tokens: 2 }));
      expect(res.status).toBe(200);
      const node = res.headers.get("x-meshgate-node") ?? "";
      served.set(node, (served.get(node) ?? 0) + 1);
      await res.arrayBuffer();
    }
    // Fifty times the usual price: next to nothing once every node is proven (a little on a loaded machine, where
    // the others' latency estimates jump); without price-aware routing it took about a third.
    expect(served.get(dear) ?? 0).toBeLessThanOrEqual(6);
    expect((served.get(cheap) ?? 0) + (served.get(streamer) ?? 0)).toBeGreaterThanOrEqual(52);
  });

  it(
    "bills nothing a node sends after [DONE] (or a payload starting with it), where clients stop " + "reading",
    async () => {
      for (const marker of ["[DONE]", "[DONE] "]) {
        const key = await newKey(`after-done-${marker.length}`);
        const node = (await freshLiar(`liar-after-done-${marker.length}`)).nodeId;
        await waitForNode(cluster.gateway.url, node);
        upstream.lie = { kind: "after_done", marker, padBytes: 50_000, completionTokens: 40_000 };
        const res = await post(key, "/v1/chat/completions", chat({ stream: true, provider: { only: [node] } }));
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text.endsWith(`data: ${marker}\n\n`)).toBe(true);
        expect(text).not.toContain("xxxx");
        const [row] = await rows(key, 1);
        expect(row).toMatchObject({ billable: false, cost: 0 });
        expect(row!.completion_tokens).toBeLessThan(20);
      }
    },
  );

  it("counts a tool call once, however many deltas a node numbers as it", async () => {
    const key = await newKey("tool-deltas");
    const node = (await freshLiar("liar-tool-deltas")).nodeId;
    await waitForNode(cluster.gateway.url, node);
    // 1,000 one-byte deltas of one call: 33,000 tokens fitted the old bound of 32 per delta.
    upstream.lie = { kind: "tool_call_deltas", deltas: 1_000, completionTokens: 33_000 };
    const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
    const res = await post(key, "/v1/chat/completions", chat({ stream: true, tools, provider: { only: [node] } }));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const [row] = await rows(key, 1);
    expect(row).toMatchObject({ billable: false, cost: 0, receipt_status: "mismatch" });
    expect(row!.completion_tokens).toBeLessThanOrEqual(1_001 + TOOL_CALL_TOKENS + CHOICE_END_TOKENS);
  });

  it("bounds each choice by its own output: one choice's text does not fill the caps of the others", async () => {
    const key = await newKey("one-choice");
    const node = (await freshLiar("liar-one-choice")).nodeId;
    await waitForNode(cluster.gateway.url, node);
    upstream.lie = { kind: "one_choice", padBytes: 1_000, completionTokens: 1_000 };
    const res = await post(
      key,
      "/v1/chat/completions",
      chat({ stream: true, n: 10, max_tokens: 100, provider: { only: [node] } }),
    );
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const [row] = await rows(key, 1);
    expect(row).toMatchObject({ billable: false, cost: 0, receipt_status: "mismatch" });
    expect(row!.completion_tokens).toBe(100 + 9 * CHOICE_END_TOKENS);
  });

  it("pays nothing for what a node that ignores the cancel sends after its client left", async () => {
    const proxy = await startTamperingProxy();
    proxy.dropCancels = true;
    const deaf = await freshLiar("deaf", { publicUrl: proxy.url });
    proxy.target = deaf.url;
    try {
      await waitForNode(cluster.gateway.url, deaf.nodeId);
      upstream.lie = { kind: "late_burst", pauseMs: 1_500, padBytes: 100_000, completionTokens: 25_000 };
      const key = await newKey("deaf");
      const abort = new AbortController();
      const res = await post(
        key,
        "/v1/chat/completions",
        chat({ stream: true, provider: { only: [deaf.nodeId] } }),
        abort.signal,
      );
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      while (!text.includes('"content":"hi"')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      abort.abort();
      const [row] = await rows(key, 1);
      expect(proxy.dropped).toBe(1);
      // The node finished its answer and signed for 25,000 tokens; the client read "hi" (and locally, what the
      // gateway wrote before it noticed the closed connection), far from the 100,000 bytes the node sent.
      expect(row).toMatchObject({ billable: false, cost: 0, receipt_status: "mismatch" });
      expect(row!.completion_tokens).toBeLessThan(25_000);
    } finally {
      await proxy.close();
    }
  });

  it(
    "refuses what the bounds cannot see: hidden output without a cap, a client's own template, unknown content " +
      "parts",
    async () => {
      const key = await newKey("shapes");
      const cases: [unknown, string][] = [
        [chat({ ignore_eos: true }), "ignore_eos"],
        [chat({ logit_bias: { "128002": 30 } }), "logit_bias"],
        // vLLM reads 0 as false: reasoning left out of the answer, yet counted.
        [chat({ include_reasoning: 0 }), "include_reasoning"],
        // Ollama (Go's JSON) reads MAX_TOKENS as max_tokens.
        [chat({ max_tokens: 10, MAX_TOKENS: 100_000 }), "MAX_TOKENS"],
        [chat({ chat_template: "{% for i in range(100000) %}{{ messages[0].content }}{% endfor %}" }), "chat_template"],
        [
          { model: CHAT_MODEL, messages: [{ role: "user", content: [{ type: "x-frames", frames: [] }] }] },
          "messages[0].content[0].type",
        ],
      ];
      for (const [body, param] of cases) {
        const res = await post(key, "/v1/chat/completions", body);
        expect([res.status, ((await res.json()) as { error: { param: string } }).error.param]).toEqual([400, param]);
      }
      // With a cap, output the client does not see is bounded by it: the node is paid for its claim within the cap.
      upstream.lie = { kind: "inflate", completionTokens: 50 };
      const node = (await freshLiar("liar-hidden")).nodeId;
      cappedHidden = node;
      await waitForNode(cluster.gateway.url, node);
      const capped = await post(
        key,
        "/v1/chat/completions",
        chat({ ignore_eos: true, max_tokens: 50, provider: { only: [node] } }),
      );
      expect(capped.status).toBe(200);
      await capped.arrayBuffer();
      expect((await rows(key, 1))[0]).toMatchObject({ billable: true, receipt_status: "ok", completion_tokens: 50 });
    },
  );

  it(
    "closes a settlement after every attack, which each honest node verifies, and refuses a period too short to " +
      "check",
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const to = Math.floor(Date.now() / 1000);
      const close = (from: number) =>
        fetch(url("/admin/settlements"), {
          method: "POST",
          headers: { authorization: `Bearer ${cluster.adminToken}`, "content-type": "application/json" },
          body: JSON.stringify({ from, to }),
        });
      const short = await close(to - 60);
      expect([short.status, ((await short.json()) as { error: { code: string } }).error.code]).toEqual([
        400,
        "period_too_short",
      ]);
      const created = await close(to - 3_600);
      expect(created.status).toBe(201);
      const statement = (await created.json()) as { id: string; nodes: { node_id: string }[] };
      expect(statement.nodes.map((n) => n.node_id)).not.toContain(liar.nodeId);
      // Every liar goes unpaid, but for the one whose claim lay within the cap of a request hiding its output.
      for (const agent of liars)
        if (agent.nodeId !== cappedHidden) expect(statement.nodes.map((n) => n.node_id)).not.toContain(agent.nodeId);
      for (const agent of cluster.agents) {
        for (const args of [[statement.id], ["--all"]]) {
          const outcome = await run(process.execPath, [
            NODE_AGENT_BIN,
            "verify-settlement",
            "--gateway",
            cluster.gateway.url,
            "--key-file",
            agent.keyFile,
            ...args,
          ]).then(
            (out) => ({ code: 0, stdout: out.stdout }),
            (err: { code?: number; stdout?: string }) => ({ code: err.code ?? -1, stdout: err.stdout ?? "" }),
          );
          expect(outcome.code, outcome.stdout).toBe(0);
        }
      }
      // A receipt the node signed before this period that no statement pays (a gap between periods): one statement's
      // check cannot see it, --all does.
      const agent = cluster.agents[0]!;
      const identity = await readKeyFile(agent.keyFile);
      const gap = {
        request_id: "req_in_a_gap",
        node_id: identity.nodeId,
        model: CHAT_MODEL,
        prompt_tokens: 3,
        completion_tokens: 2,
        price: CHEAP,
        body_digest: bodyDigest(utf8("{}")),
        created: (to - 7_200) * 1000,
      };
      const bytes = receiptBytes(gap);
      const tampered = join(cluster.scratch, "tampered.jsonl");
      copyFileSync(`${agent.keyFile}.receipts.jsonl`, tampered);
      const entry = {
        receipt: encodeReceipt(bytes, await identity.signer.sign(bytes)),
        request_id: gap.request_id,
        model: CHAT_MODEL,
        prompt_tokens: 3,
        completion_tokens: 2,
        amount: nodeAmount(gap, CHEAP),
        created: gap.created,
      };
      appendFileSync(tampered, `${JSON.stringify(entry)}\n`);
      const verify = (...args: string[]) =>
        run(process.execPath, [
          NODE_AGENT_BIN,
          "verify-settlement",
          "--gateway",
          cluster.gateway.url,
          "--key-file",
          agent.keyFile,
          "--receipt-log",
          tampered,
          ...args,
        ]).then(
          (out) => ({ code: 0, stdout: out.stdout }),
          (err: { code?: number; stdout?: string }) => ({ code: err.code ?? -1, stdout: err.stdout ?? "" }),
        );
      expect((await verify(statement.id)).code).toBe(0);
      const all = await verify("--all");
      expect(all.code, all.stdout).toBe(1);
      expect(all.stdout).toContain("req_in_a_gap");
    },
  );
});
