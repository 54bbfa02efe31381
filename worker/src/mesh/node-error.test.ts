import { describe, expect, it } from "vitest";
import { MAX_NODE_MESSAGE_CHARS, nodeErrorBody } from "./node-error.js";

const body = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value)).buffer as ArrayBuffer;

describe("nodeErrorBody", () => {
  it("turns vLLM's older error body into OpenAI's shape, keeping the message and marking it as the node's", () => {
    const vllm = {
      object: "error",
      message: "This model's maximum context length is 4096 tokens.",
      type: "BadRequestError",
      param: null,
      code: 400,
    };
    expect(nodeErrorBody(400, body(vllm))).toEqual({
      error: {
        message: "The node serving this request answered 400: This model's maximum context length is 4096 tokens.",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
  });

  it("keeps an OpenAI-shaped error's type, param and code when they are well-formed", () => {
    const openai = {
      error: { message: "bad temperature", type: "invalid_request_error", param: "temperature", code: "invalid_value" },
    };
    expect(nodeErrorBody(400, body(openai)).error).toEqual({
      message: "The node serving this request answered 400: bad temperature",
      type: "invalid_request_error",
      param: "temperature",
      code: "invalid_value",
    });
    const odd = { error: { message: "x", type: "<script>", param: "a b", code: "x".repeat(65) } };
    expect(nodeErrorBody(404, body(odd)).error).toMatchObject({ type: "not_found_error", param: null, code: null });
  });

  it("reads Ollama's, FastAPI's and plain-text errors", () => {
    expect(nodeErrorBody(400, body({ error: "model 'x' not found" })).error.message).toBe(
      "The node serving this request answered 400: model 'x' not found",
    );
    expect(nodeErrorBody(422, body({ detail: [{ msg: "field required" }, { msg: "too long" }] })).error.message).toBe(
      "The node serving this request answered 422: field required; too long",
    );
    expect(nodeErrorBody(400, body("Bad Request")).error.message).toBe(
      "The node serving this request answered 400: Bad Request",
    );
    expect(nodeErrorBody(400, body("")).error.message).toBe("The node serving this request answered 400: (no message)");
  });

  it("bounds the message and strips control characters", () => {
    const long = nodeErrorBody(400, body({ message: `line1\nline2\u0000\u001b[31m${"y".repeat(5_000)}` })).error
      .message;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checks that no control character is left
    expect(long).not.toMatch(/[\u0000-\u001f]/);
    expect(long.length).toBeLessThanOrEqual(MAX_NODE_MESSAGE_CHARS + 60);
    expect(long.endsWith("…")).toBe(true);
  });
});
