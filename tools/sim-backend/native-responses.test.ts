import { SseDecoder } from "@meshgate/schemas";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimBackend, type SimBackend } from "./server.js";

let native: SimBackend;
let chatOnly: SimBackend;
beforeAll(async () => {
  native = await startSimBackend({ models: ["sim-small"], responsesApi: true, log: () => {} });
  chatOnly = await startSimBackend({ models: ["sim-small"], log: () => {} });
});
afterAll(async () => {
  await native.close();
  await chatOnly.close();
});

function post(backend: SimBackend, path: string, body: unknown): Promise<Response> {
  return fetch(`${backend.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

const WEATHER = {
  type: "function",
  name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

interface Usage {
  input_tokens: number;
  output_tokens: number;
}
interface ResponseBody {
  object: string;
  status: string;
  output: { type: string; name?: string; content?: { text: string }[] }[];
  usage: Usage;
}

describe("sim-backend's native POST /v1/responses", () => {
  it("is a 404 unless started with responsesApi", async () => {
    expect((await post(chatOnly, "/v1/responses", { model: "sim-small", input: "hi" })).status).toBe(404);
  });

  it("answers a Response with the chat endpoint's reply and usage, and counts the path in its stats", async () => {
    const chat = (await (
      await post(native, "/v1/chat/completions", { model: "sim-small", messages: [{ role: "user", content: "hi" }] })
    ).json()) as { choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
    const res = await post(native, "/v1/responses", { model: "sim-small", input: "hi" });
    const body = (await res.json()) as ResponseBody;
    expect(body.object).toBe("response");
    expect(body.status).toBe("completed");
    expect(body.output[0]?.content?.[0]?.text).toBe(chat.choices[0]?.message.content);
    expect(body.usage.output_tokens).toBe(chat.usage.completion_tokens);
    expect(native.stats().byPath["/v1/responses"]).toBe(1);
  });

  it("streams Responses events (event: and data: lines, no [DONE]) ending with response.completed", async () => {
    const res = await post(native, "/v1/responses", {
      model: "sim-small",
      input: "hi",
      stream: true,
      tools: [WEATHER],
    });
    const text = await res.text();
    const decoder = new SseDecoder();
    const events = [...decoder.push(text), ...decoder.flush()];
    expect(events.every((e) => e.raw.startsWith("event: "))).toBe(true);
    const values = events.map((e) => JSON.parse(e.data ?? "null") as { type: string; response?: ResponseBody });
    expect(values[0]?.type).toBe("response.created");
    const last = values.at(-1);
    expect(last?.type).toBe("response.completed");
    expect(last?.response?.output.map((o) => [o.type, o.name])).toEqual([["function_call", "get_weather"]]);
    expect(last?.response?.usage.output_tokens).toBeGreaterThan(0);
    expect(text).not.toContain("[DONE]");
  });
});
