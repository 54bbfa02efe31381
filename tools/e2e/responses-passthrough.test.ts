// The Responses API passed through: real agents started with `--responses-api` in front of a simulated backend that
// serves /v1/responses natively, driven by the official `openai` SDK as users drive it, dialled directly and through
// sessions. The backend's stats show each request reached its /v1/responses (none was translated to chat), and the
// usage billed is what the client was told.
import type { UsageReport } from "@meshgate/schemas";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_MODEL, startCluster, TRANSPORTS, type Cluster } from "./support/cluster.js";
import { type HungUp, postThenHangUp } from "./support/hang-up.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";
import { fetchUsage, usageOnceRecorded } from "./support/usage.js";

/**
 * Sends a streamed Responses request over a raw socket, paced by the simulated backend (`sim_token_interval_ms`, a
 * field the gateway passes on), and hangs up as soon as the answer's first bytes arrive.
 */
function requestThenHangUp(gatewayUrl: string, apiKey: string): Promise<HungUp> {
  const body = {
    model: CHAT_MODEL,
    stream: true,
    input: "one two three four five six",
    max_output_tokens: 64,
    sim_token_interval_ms: 100,
  };
  return postThenHangUp(gatewayUrl, apiKey, "/v1/responses", body);
}

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

describe.each(TRANSPORTS)("the Responses API passed through to nodes that serve it (%s)", E2E, (transport) => {
  let cluster: Cluster;
  let client: OpenAI;

  beforeAll(async () => {
    cluster = await startCluster({
      agents: 1,
      name: `responses-pass-${transport}`,
      nodes: [{ responsesApi: true }],
      session: transport === "session",
    });
    client = cluster.client;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  const totals = async () => (await fetchUsage(cluster.gateway.url, cluster.apiKey)).totals;
  /** Usage is recorded after the answer: wait until `count` more requests are in. */
  const totalsAfter = async (before: { requests: number }, count: number) =>
    (await usageOnceRecorded(cluster.gateway.url, cluster.apiKey, before.requests + count)).totals;

  /** Requests the backend received at each endpoint since `before`. */
  function reached(before: Record<string, number>): Record<string, number> {
    const now = cluster.backend.stats().byPath;
    return Object.fromEntries(
      Object.entries(now)
        .map(([path, n]) => [path, n - (before[path] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );
  }

  type Usage = { input_tokens: number; output_tokens: number } | undefined;

  /** The key was billed exactly what the responses reported, summed. */
  async function billedAsReported(before: UsageReport["totals"], usages: readonly Usage[]): Promise<void> {
    const after = await totalsAfter(before, usages.length);
    const sum = (pick: (u: NonNullable<Usage>) => number) => usages.reduce((s, u) => s + (u ? pick(u) : NaN), 0);
    expect(after.requests - before.requests).toBe(usages.length);
    expect(after.prompt_tokens - before.prompt_tokens).toBe(sum((u) => u.input_tokens));
    expect(after.completion_tokens - before.completion_tokens).toBe(sum((u) => u.output_tokens));
  }

  it("responses.create reaches the node's /v1/responses, and the key is billed the usage it reports", async () => {
    const before = await totals();
    const paths = { ...cluster.backend.stats().byPath };
    const response = await client.responses.create({ model: CHAT_MODEL, input: "Say something about meshes." });
    expect(response.status).toBe("completed");
    expect(response.output_text).toBeTruthy();
    expect(reached(paths)).toEqual({ "/v1/responses": 1 });
    await billedAsReported(before, [response.usage]);
  });

  it("responses.stream gives the node's own deltas, which make the final text", async () => {
    const before = await totals();
    const paths = { ...cluster.backend.stats().byPath };
    const stream = client.responses.stream({ model: CHAT_MODEL, input: "Say something about meshes." });
    let deltas = "";
    stream.on("response.output_text.delta", (event) => {
      deltas += event.delta;
    });
    const final = await stream.finalResponse();
    expect(final.output_text).toBeTruthy();
    expect(deltas).toBe(final.output_text);
    expect(reached(paths)).toEqual({ "/v1/responses": 1 });
    await billedAsReported(before, [final.usage]);
  });

  it("a function tool round trip, streamed and not, all passed through and billed as reported", async () => {
    const before = await totals();
    const paths = { ...cluster.backend.stats().byPath };
    const input: OpenAI.Responses.ResponseInput = [{ role: "user", content: "What is the weather in Paris?" }];
    const first = await client.responses.create({ model: CHAT_MODEL, input, tools: [weatherTool] });
    const call = first.output.find((item) => item.type === "function_call");
    if (call?.type !== "function_call") throw new Error("no function call");
    expect(call.name).toBe("get_weather");
    expect(JSON.parse(call.arguments)).toHaveProperty("city");

    const streamed = await client.responses.stream({ model: CHAT_MODEL, input, tools: [weatherTool] }).finalResponse();
    expect(streamed.output.find((item) => item.type === "function_call")).toMatchObject({ name: "get_weather" });

    const followUp: OpenAI.Responses.ResponseInput = [
      ...input,
      { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: "function_call_output", call_id: call.call_id, output: "sunny" },
    ];
    const second = await client.responses.create({ model: CHAT_MODEL, tools: [weatherTool], input: followUp });
    expect(second.output.map((item) => item.type)).toEqual(["message"]);
    expect(second.output_text).toBeTruthy();
    const third = await client.responses
      .stream({ model: CHAT_MODEL, tools: [weatherTool], input: followUp })
      .finalResponse();
    expect(third.output_text).toBe(second.output_text);

    expect(reached(paths)).toEqual({ "/v1/responses": 4 });
    await billedAsReported(before, [first.usage, streamed.usage, second.usage, third.usage]);
  });

  it("a client that hangs up mid-stream has the node stopped and paid by its receipt for the part relayed", async () => {
    const before = await totals();
    const { status, requestId } = await requestThenHangUp(cluster.gateway.url, cluster.apiKey);
    expect(status).toBe("HTTP/1.1 200 OK");
    const report = await usageOnceRecorded(cluster.gateway.url, cluster.apiKey, before.requests + 1);
    const row = report.data.find((r) => r.request_id === requestId);
    // The answer takes seconds (64 tokens, 100 ms apart): the node was stopped, and is paid by its receipt for the
    // part it relayed (`partial`), which its Responses events were counted for on both sides.
    expect(row).toMatchObject({ status: 200, streamed: true, billable: true, receipt_status: "partial" });
    expect(row!.completion_tokens).toBeLessThan(64);
  });
});
