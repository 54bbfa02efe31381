// The Responses API as clients use it: the official `openai` SDK's `client.responses` and the Vercel AI SDK's default
// provider call `openai("model")`, against the local gateway and real node agents whose backend serves Chat
// Completions only (the gateway translates). Usage is recorded as for chat.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, stepCountIs, streamText, tool } from "ai";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { CHAT_MODEL, startCluster, type Cluster } from "./support/cluster.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";
import { fetchUsage, usageOnceRecorded } from "./support/usage.js";

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

describe("the Responses API through the gateway", E2E, () => {
  let cluster: Cluster;
  let client: OpenAI;

  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, name: "responses-api" });
    client = cluster.client;
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  const totals = async () => (await fetchUsage(cluster.gateway.url, cluster.apiKey)).totals;
  /** Usage is recorded after the answer: wait until `count` more requests are in. */
  const totalsAfter = async (before: { requests: number }, count: number) =>
    (await usageOnceRecorded(cluster.gateway.url, cluster.apiKey, before.requests + count)).totals;

  it("openai SDK: responses.create answers, and the usage it reports is what the key is billed for", async () => {
    const before = await totals();
    const response = await client.responses.create({ model: CHAT_MODEL, input: "Say something about meshes." });
    expect(response.status).toBe("completed");
    expect(response.output_text).toBeTruthy();
    const after = await totalsAfter(before, 1);
    expect(after.prompt_tokens - before.prompt_tokens).toBe(response.usage?.input_tokens);
    expect(after.completion_tokens - before.completion_tokens).toBe(response.usage?.output_tokens);
  });

  it("openai SDK: a streamed response gives text deltas that make the final text, then usage", async () => {
    const before = await totals();
    const stream = client.responses.stream({ model: CHAT_MODEL, input: "Say something about meshes." });
    let deltas = "";
    stream.on("response.output_text.delta", (event) => {
      deltas += event.delta;
    });
    const final = await stream.finalResponse();
    expect(deltas).toBe(final.output_text);
    expect(final.output_text).toBeTruthy();
    const after = await totalsAfter(before, 1);
    expect(after.completion_tokens - before.completion_tokens).toBe(final.usage?.output_tokens);
  });

  it("openai SDK: a function tool round trip, streamed and not", async () => {
    const before = await totals();
    const input: OpenAI.Responses.ResponseInput = [{ role: "user", content: "What is the weather in Paris?" }];
    const first = await client.responses.create({ model: CHAT_MODEL, input, tools: [weatherTool] });
    const call = first.output.find((item) => item.type === "function_call");
    expect(call).toMatchObject({ type: "function_call", name: "get_weather" });
    if (call?.type !== "function_call") throw new Error("no function call");
    expect(JSON.parse(call.arguments)).toHaveProperty("city");

    const streamed = await client.responses.stream({ model: CHAT_MODEL, input, tools: [weatherTool] }).finalResponse();
    expect(streamed.output.find((item) => item.type === "function_call")).toMatchObject({ name: "get_weather" });

    const second = await client.responses.create({
      model: CHAT_MODEL,
      tools: [weatherTool],
      input: [
        ...input,
        // Output items go back as input, as OpenAI's docs show; the SDK's types differ in optional fields only.
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: "function_call_output", call_id: call.call_id, output: "sunny" },
      ],
    });
    expect(second.output.map((item) => item.type)).toEqual(["message"]);
    expect(second.output_text).toBeTruthy();
    // Each of the three requests is billed.
    await totalsAfter(before, 3);
  });

  describe("Vercel AI SDK, default provider call openai(model)", () => {
    const provider = () => createOpenAI({ baseURL: `${cluster.gateway.url}/v1`, apiKey: cluster.apiKey });
    const tools = {
      get_weather: tool({
        description: "The weather in a city",
        inputSchema: z.object({ city: z.string() }),
        execute: async ({ city }) => `sunny in ${city}`,
      }),
    };

    it("generateText answers, with usage", async () => {
      const before = await totals();
      const result = await generateText({ model: provider()(CHAT_MODEL), prompt: "Say something about meshes." });
      expect(result.text).toBeTruthy();
      expect(result.usage.outputTokens).toBeGreaterThan(0);
      const after = await totalsAfter(before, 1);
      expect(after.completion_tokens - before.completion_tokens).toBe(result.usage.outputTokens);
    });

    it("generateText calls a tool and answers with its result", async () => {
      const result = await generateText({
        model: provider()(CHAT_MODEL),
        prompt: "What is the weather in Paris?",
        tools,
        stopWhen: stepCountIs(3),
      });
      expect(result.steps[0]?.toolCalls.map((c) => c.toolName)).toEqual(["get_weather"]);
      expect(result.steps[0]?.toolResults[0]?.output).toBe("sunny in city-value");
      expect(result.steps).toHaveLength(2);
      expect(result.text).toBeTruthy();
    });

    it("a multi-turn streamed chat works with store: false, and the default store gets a 400 saying so", async () => {
      const first = streamText({ model: provider()(CHAT_MODEL), prompt: "Say something about meshes." });
      const messages = [
        { role: "user" as const, content: "Say something about meshes." },
        ...(await first.response).messages,
        { role: "user" as const, content: "And about gateways?" },
      ];
      const stateless = streamText({
        model: provider()(CHAT_MODEL),
        messages,
        providerOptions: { openai: { store: false } },
      });
      expect(await stateless.text).toBeTruthy();

      const errors: unknown[] = [];
      const stored = streamText({
        model: provider()(CHAT_MODEL),
        messages,
        onError: ({ error }) => void errors.push(error),
      });
      await stored.consumeStream();
      expect(String((errors[0] as { responseBody?: string } | undefined)?.responseBody)).toContain("store");
    });

    it("streamText streams text, and a tool call's input in deltas", async () => {
      const plain = streamText({ model: provider()(CHAT_MODEL), prompt: "Say something about meshes." });
      let streamedText = "";
      for await (const delta of plain.textStream) streamedText += delta;
      expect(streamedText).toBe(await plain.text);
      expect(streamedText).toBeTruthy();

      const withTool = streamText({
        model: provider()(CHAT_MODEL),
        prompt: "What is the weather in Paris?",
        tools,
        stopWhen: stepCountIs(3),
      });
      const kinds = new Set<string>();
      for await (const part of withTool.fullStream) {
        kinds.add(part.type);
        if (part.type === "error") throw part.error;
      }
      expect(kinds).toContain("tool-input-delta");
      expect(kinds).toContain("tool-call");
      expect(kinds).toContain("tool-result");
      expect(await withTool.text).toBeTruthy();
      expect((await withTool.steps).length).toBe(2);
    });
  });
});
