import { describe, expect, it } from "vitest";
import { HeartbeatSchema } from "./heartbeat.js";
import { ChatCompletionRequestSchema, EmbeddingRequestSchema } from "./openai.js";

const valid = {
  node_id: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
  url: "https://node.example:8790",
  models: [{ id: "llama-3-8b", owned_by: "ollama" }],
  capacity: 4,
  in_flight: 0,
  timestamp: 1_800_000_000_000,
  seq: 1,
};

describe("HeartbeatSchema", () => {
  it("accepts a well-formed heartbeat", () => {
    expect(HeartbeatSchema.parse(valid)).toEqual(valid);
  });

  it("keeps a model's Responses API flag", () => {
    const models = [{ id: "m", responses_api: true as const }];
    expect(HeartbeatSchema.parse({ ...valid, models }).models).toEqual(models);
  });

  it.each([
    ["a node id that is not a 32-byte base64url key", { node_id: "abc" }],
    ["a non-http URL", { url: "ftp://node.example" }],
    ["zero capacity", { capacity: 0 }],
    ["a fractional sequence number", { seq: 1.5 }],
    ["a negative in-flight count", { in_flight: -1 }],
    ["an empty model id", { models: [{ id: "" }] }],
    ["an unknown field", { extra: true }],
    ["a Responses API flag that is not true", { models: [{ id: "m", responses_api: false }] }],
  ])("refuses %s", (_name, change) => {
    expect(HeartbeatSchema.safeParse({ ...valid, ...change }).success).toBe(false);
  });
});

describe("client request schemas", () => {
  it("keep unknown fields for the node", () => {
    const body = { model: "m", messages: [{ role: "user", content: "hi" }], tools: [{ type: "function" }], seed: 1 };
    expect(ChatCompletionRequestSchema.parse(body)).toEqual(body);
  });

  it("require a model and at least one message", () => {
    expect(ChatCompletionRequestSchema.safeParse({ messages: [{ role: "user" }] }).success).toBe(false);
    expect(ChatCompletionRequestSchema.safeParse({ model: "m", messages: [] }).success).toBe(false);
  });

  it("accept every OpenAI embeddings input form", () => {
    for (const input of ["text", ["a", "b"], [1, 2, 3], [[1, 2], [3]]]) {
      expect(EmbeddingRequestSchema.safeParse({ model: "m", input }).success).toBe(true);
    }
    expect(EmbeddingRequestSchema.safeParse({ model: "m", input: { a: 1 } }).success).toBe(false);
  });
});
