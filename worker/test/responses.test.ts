// POST /v1/responses through the Worker, answered by a node that serves Chat Completions only: translated both ways,
// metered and billed as chat is.
import { describe, expect, it, inject } from "vitest";
import { clientFetch, createApiKey, errorBody, newNode, registerRoutable } from "./helpers.js";

const fleet = inject("fleet");
/** A model the fleet's agent serves (fleet/bindings.ts). */
const MODEL = "chat-responses";
const MODEL_FAILOVER = "chat-responses-failover";

async function liveNode(model: string): Promise<void> {
  const res = await registerRoutable(await newNode(), { url: fleet.agent, models: [{ id: model }] });
  expect(res.status).toBe(200);
}

interface UsageReport {
  totals: { requests: number; prompt_tokens: number; completion_tokens: number };
}

async function usageOf(key: string, count: number): Promise<UsageReport> {
  for (let i = 0; i < 200; i++) {
    const report = (await (await clientFetch("/v1/usage", key)).json()) as UsageReport;
    if (report.totals.requests >= count) return report;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`usage never reached ${count} rows`);
}

const post = (key: string, body: unknown) =>
  clientFetch("/v1/responses", key, { method: "POST", body: JSON.stringify(body) });

const weather = {
  type: "function",
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

/** `event:` names and parsed `data:` of a Responses stream. */
function events(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null") as Record<string, unknown>;
      return { event, data };
    });
}

describe("POST /v1/responses", () => {
  it("answers a whole Response with usage in Responses terms, and bills it as chat", async () => {
    await liveNode(MODEL);
    const { key } = await createApiKey();
    const res = await post(key, { model: MODEL, input: "hello responses mesh", max_output_tokens: 6 });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-meshgate-node")).not.toBe("none");
    const body = (await res.json()) as {
      id: string;
      object: string;
      status: string;
      output: { type: string; content: { type: string; text: string }[] }[];
      usage: { input_tokens: number; output_tokens: number; total_tokens: number };
    };
    expect(body.object).toBe("response");
    expect(body.id).toBe(`resp_${res.headers.get("x-request-id")!.replace(/^req_/, "")}`);
    expect(body.output[0]!.content[0]!.text.split(" ")).toHaveLength(6);
    expect(body.usage.output_tokens).toBe(6);
    const report = await usageOf(key, 1);
    expect(report.totals).toMatchObject({
      requests: 1,
      prompt_tokens: body.usage.input_tokens,
      completion_tokens: body.usage.output_tokens,
    });
  });

  it("streams OpenAI's event sequence, a function call's arguments in deltas, and usage last", async () => {
    await liveNode(MODEL);
    const { key } = await createApiKey();
    const res = await post(key, { model: MODEL, input: "weather in Paris?", tools: [weather], stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const seen = events(await res.text());
    const names = seen.map((e) => e.event);
    expect(names[0]).toBe("response.created");
    expect(names).toContain("response.output_item.added");
    expect(names).toContain("response.function_call_arguments.delta");
    expect(names.at(-1)).toBe("response.completed");
    const args = seen
      .filter((e) => e.event === "response.function_call_arguments.delta")
      .map((e) => e.data["delta"])
      .join("");
    expect(JSON.parse(args)).toEqual({ city: "city-value" });
    const completed = seen.at(-1)!.data["response"] as { usage: { output_tokens: number } };
    expect(completed.usage.output_tokens).toBeGreaterThan(0);
    expect((await usageOf(key, 1)).totals.completion_tokens).toBe(completed.usage.output_tokens);
  });

  it("takes a function call's output back and answers in text", async () => {
    await liveNode(MODEL);
    const { key } = await createApiKey();
    const first = (await (await post(key, { model: MODEL, input: "weather?", tools: [weather] })).json()) as {
      output: { type: string; call_id: string; name: string; arguments: string }[];
    };
    const call = first.output.find((o) => o.type === "function_call")!;
    expect(call.name).toBe("get_weather");
    const second = await post(key, {
      model: MODEL,
      tools: [weather],
      input: [
        { role: "user", content: "weather?" },
        call,
        { type: "function_call_output", call_id: call.call_id, output: "sunny, 21 C" },
      ],
    });
    expect(second.status).toBe(200);
    const answer = (await second.json()) as { output: { type: string; content?: { text: string }[] }[] };
    expect(answer.output.map((o) => o.type)).toEqual(["message"]);
    expect(answer.output[0]!.content![0]!.text).toBeTruthy();
  });

  it("honours the routing controls in the body, as chat does", async () => {
    const chosen = await newNode();
    expect((await registerRoutable(chosen, { url: fleet.agent, models: [{ id: MODEL }] })).status).toBe(200);
    await liveNode(MODEL);
    const { key } = await createApiKey();
    for (let i = 0; i < 4; i++) {
      const res = await post(key, { model: MODEL, input: "hi", provider: { only: [chosen.id] } });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-meshgate-node")).toBe(chosen.id);
      await res.arrayBuffer();
    }
  });

  it("fails over from a failing node to one that answers, as chat does", async () => {
    const failing = await newNode();
    expect((await registerRoutable(failing, { url: fleet.failing, models: [{ id: MODEL_FAILOVER }] })).status).toBe(
      200,
    );
    const good = await newNode();
    expect((await registerRoutable(good, { url: fleet.agent, models: [{ id: MODEL_FAILOVER }] })).status).toBe(200);
    const { key } = await createApiKey();
    const res = await post(key, { model: MODEL_FAILOVER, input: "hi", provider: { order: [failing.id, good.id] } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-meshgate-node")).toBe(good.id);
    expect(res.headers.get("x-meshgate-attempts")).toBe("2");
    expect(((await res.json()) as { object: string }).object).toBe("response");
  });

  it("takes a tool schema nested as deep as any body may be, though the chat body nests it one level deeper", async () => {
    let parameters: Record<string, unknown> = { type: "string" };
    // body, tools, the tool, then 61 levels: 64 in all, the deepest a body may nest (65 once under chat's `function`).
    for (let i = 0; i < 30; i++) parameters = { type: "object", properties: { a: parameters } };
    const { key } = await createApiKey();
    const tool = { type: "function", name: "deep", parameters };
    const res = await post(key, { model: "resp-deep-tool", input: "hi", tools: [tool] });
    // Past the body checks to routing: no node serves this model.
    expect(res.status).toBe(404);
    expect((await errorBody(res)).code).toBe("model_not_found");
  });

  it.each([
    ["previous_response_id", { previous_response_id: "resp_abc" }],
    ["tools", { tools: [{ type: "web_search" }] }],
    // Within the input's bound, but one message more than a chat request may hold once instructions lead it.
    [
      "input",
      { instructions: "Be brief.", input: Array.from({ length: 10_000 }, () => ({ role: "user", content: "x" })) },
    ],
  ])("refuses %s with a 400 naming it, before any node is asked", async (param, extra) => {
    const { key } = await createApiKey();
    const res = await post(key, { model: "resp-refused", input: "hi", ...extra });
    expect(res.status).toBe(400);
    expect(await errorBody(res)).toMatchObject({
      type: "invalid_request_error",
      param: expect.stringContaining(param),
    });
  });
});
