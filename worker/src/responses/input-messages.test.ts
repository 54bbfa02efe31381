import { describe, expect, it } from "vitest";
import { inputWithItems } from "./input-messages.js";
import { functionCallItemId, messageItemId } from "./item-ids.js";

describe("inputWithItems: the input a node serving the Responses API itself is sent", () => {
  it("replaces references to items the gateway minted by the items, and drops references to reasoning", () => {
    const messageId = messageItemId([{ type: "output_text", text: "Let me look that up." }])!;
    const callId = functionCallItemId({ call_id: "call_9", name: "lookup", arguments: '{"q":"x"}' })!;
    const output = { type: "function_call_output", call_id: "call_9", output: "found" } as const;
    expect(
      inputWithItems([
        { role: "user", content: "Look up x" },
        { type: "item_reference", id: "rs_123" },
        { type: "item_reference", id: messageId },
        { type: "item_reference", id: callId },
        output,
      ]),
    ).toEqual([
      { role: "user", content: "Look up x" },
      {
        type: "message",
        role: "assistant",
        id: messageId,
        content: [expect.objectContaining({ type: "output_text", text: "Let me look that up." })],
      },
      { type: "function_call", id: callId, call_id: "call_9", name: "lookup", arguments: '{"q":"x"}' },
      output,
    ]);
  });
});
