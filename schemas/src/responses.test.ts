import { describe, expect, it } from "vitest";
import { MAX_RESPONSES_INPUT_ITEMS, ResponsesRequestSchema } from "./responses.js";

/** The paths of the issues a body raises; none when it is accepted. */
function problems(body: unknown): string[] {
  const parsed = ResponsesRequestSchema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join("."));
}

describe("ResponsesRequestSchema", () => {
  it("accepts what openai-node and the AI SDK send, keeping fields it does not name", () => {
    const body = {
      model: "gpt-4.1",
      input: [
        { role: "user", content: [{ type: "input_text", text: "hi" }] },
        { type: "item_reference", id: "msg_1" },
        { type: "function_call", call_id: "call_1", name: "f", arguments: "{}" },
        { type: "function_call_output", call_id: "call_1", output: [{ type: "input_text", text: "ok" }] },
      ],
      store: true,
      include: ["reasoning.encrypted_content"],
      text: { format: { type: "json_schema", name: "x", schema: { type: "object" }, strict: true } },
      tools: [{ type: "function", name: "f", description: null, parameters: null, strict: true }],
      tool_choice: { type: "function", name: "f" },
      future_field: 1,
    };
    const parsed = ResponsesRequestSchema.parse(body);
    expect(parsed["include"]).toStrictEqual(["reasoning.encrypted_content"]);
    expect(parsed["future_field"]).toBe(1);
    expect(problems({ model: "m", input: "hi" })).toStrictEqual([]);
  });

  it("refuses wrong types and values out of range, naming the field", () => {
    expect(problems({ input: "hi" })).toStrictEqual(["model"]);
    expect(problems({ model: "m", input: 5 })).toStrictEqual(["input"]);
    expect(problems({ model: "m", input: "hi", max_output_tokens: 0 })).toStrictEqual(["max_output_tokens"]);
    expect(problems({ model: "m", input: "hi", max_output_tokens: 1.5 })).toStrictEqual(["max_output_tokens"]);
    expect(problems({ model: "m", input: "hi", temperature: 3 })).toStrictEqual(["temperature"]);
    expect(problems({ model: "m", input: "hi", top_logprobs: 21 })).toStrictEqual(["top_logprobs"]);
    expect(problems({ model: "m", input: "hi", truncation: "middle" })).toStrictEqual(["truncation"]);
    // A bad item fails the string-or-items union as a whole.
    expect(problems({ model: "m", input: [{ role: "user", content: 7 }] })).toStrictEqual(["input"]);
    expect(problems({ model: "m", input: "hi", metadata: { k: 1 } })).toStrictEqual(["metadata.k"]);
  });

  it("bounds the number of input items", () => {
    const items = (n: number) => Array.from({ length: n }, () => ({ role: "user", content: "x" }));
    expect(problems({ model: "m", input: items(MAX_RESPONSES_INPUT_ITEMS) })).toStrictEqual([]);
    expect(problems({ model: "m", input: items(MAX_RESPONSES_INPUT_ITEMS + 1) })).toStrictEqual(["input"]);
  });
});
