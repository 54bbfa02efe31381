// POST /v1/responses answered by a node the test plays (through a session), whose Chat Completions stream is odd or
// hostile: the client still gets OpenAI's Responses stream, well framed and labelled, and never a 500.
import { FrameType, type Frame } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { invalidateNodeSnapshot } from "../src/mesh/node-snapshot.js";
import { clientFetch, createApiKey, newNode } from "./helpers.js";
import { SessionPeer } from "./session-peer.js";

const MODEL = "responses-node-stream";
const isRequest = (f: Frame): boolean => f.type === FrameType.request;
const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const chunk = (choice: Record<string, unknown>) =>
  data({ id: "c", object: "chat.completion.chunk", created: 1, model: MODEL, choices: [choice] });
const USAGE = data({
  id: "c",
  object: "chat.completion.chunk",
  created: 1,
  model: MODEL,
  choices: [],
  usage: {
    prompt_tokens: 5,
    completion_tokens: 2,
    total_tokens: 7,
  },
});

/** The client's streamed Responses answer to the node's head and chunks. */
async function streamed(headers: [string, string][], chunks: string[]): Promise<Response> {
  const node = await newNode();
  const peer = await SessionPeer.live(node, [MODEL]);
  invalidateNodeSnapshot();
  const { key } = await createApiKey();
  const body = JSON.stringify({ model: MODEL, input: "hi", stream: true });
  const answer = clientFetch("/v1/responses", key, { method: "POST", body });
  const request = await peer.frame(isRequest);
  await peer.answer(request.stream, 200, headers, chunks);
  const res = await answer;
  void res
    .clone()
    .text()
    .finally(() => peer.ws.close(1000));
  return res;
}

function eventTypes(sse: string): string[] {
  return [...sse.matchAll(/^event: (.*)$/gm)].map((m) => m[1]!);
}

describe("POST /v1/responses: the node's stream", () => {
  it("is labelled text/event-stream whatever content type the node gave: the gateway wrote it", async () => {
    const text = chunk({ index: 0, delta: { content: "Hi" }, finish_reason: "stop" });
    const res = await streamed(
      [["content-type", "text/html; charset=text/event-stream"]],
      [text, USAGE, "data: [DONE]\n\n"],
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(eventTypes(await res.text())).toContain("response.completed");
  });

  it("tool calls without an id or a name, at an index of a billion, then [DONE] twice: one whole response", async () => {
    const chunks = [
      chunk({ index: 0, delta: { tool_calls: [{ index: 1e9, function: { arguments: '{"a":' } }] } }),
      chunk({ index: 0, delta: { tool_calls: [{ index: 1e9, function: { name: "late", arguments: "1}" } }] } }),
      chunk({ index: 0, delta: { tool_calls: [{ index: 3, id: "call_x", function: { arguments: "{}" } }] } }),
      chunk({ index: 0, delta: {}, finish_reason: "tool_calls" }),
      USAGE,
      "data: [DONE]\n\n",
      "data: [DONE]\n\n",
    ];
    const res = await streamed([["content-type", "text/event-stream"]], chunks);
    expect(res.status).toBe(200);
    const sse = await res.text();
    const types = eventTypes(sse);
    expect(types.filter((t) => t === "response.completed")).toHaveLength(1);
    expect(types.at(-1)).toBe("response.completed");
    const completed = JSON.parse(/^data: (.*)$/m.exec(sse.slice(sse.lastIndexOf("event: response.completed")))![1]!);
    expect(completed.response.output).toMatchObject([
      { type: "function_call", name: "late", arguments: '{"a":1}', call_id: expect.stringMatching(/^call_/) },
      { type: "function_call", name: "", arguments: "{}", call_id: "call_x" },
    ]);
    expect(completed.response.usage).toMatchObject({ input_tokens: 5, output_tokens: 2 });
  });

  it("text of a second choice (the gateway never asks for one) stays out of the answer", async () => {
    const chunks = [
      chunk({ index: 1, delta: { content: "EVIL" } }),
      chunk({ index: 0, delta: { content: "Hi" } }),
      chunk({ index: 1, delta: {}, finish_reason: "stop" }),
      chunk({ index: 0, delta: { content: " there" }, finish_reason: "stop" }),
      USAGE,
      "data: [DONE]\n\n",
    ];
    const res = await streamed([["content-type", "text/event-stream"]], chunks);
    const sse = await res.text();
    expect(sse).not.toContain("EVIL");
    const completed = JSON.parse(/^data: (.*)$/m.exec(sse.slice(sse.lastIndexOf("event: response.completed")))![1]!);
    expect(completed.response.output).toMatchObject([{ type: "message", content: [{ text: "Hi there" }] }]);
  });

  it("an error after some text: the error event, then response.failed, and nothing after", async () => {
    const chunks = [
      chunk({ index: 0, delta: { content: "Hel" } }),
      data({ error: { message: "backend exploded", type: "server_error", code: "boom" } }),
      chunk({ index: 0, delta: { content: "lo" }, finish_reason: "stop" }),
      USAGE,
      "data: [DONE]\n\n",
    ];
    const res = await streamed([["content-type", "text/event-stream"]], chunks);
    const types = eventTypes(await res.text());
    expect(types.slice(-2)).toEqual(["error", "response.failed"]);
    expect(types).not.toContain("response.completed");
  });
});
