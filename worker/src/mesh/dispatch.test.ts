import { RESPONSES_DIALECT } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import type { NodeBody } from "../metering/response-meter.js";
import { firstTokenOf, MAX_PREAMBLE_BYTES, startStream } from "./stream-start.js";
import { textStream } from "../../test/text-stream.js";

/** What was held up to the first token, then the rest from the reader. */
async function text(body: NodeBody): Promise<string> {
  const dec = new TextDecoder();
  let out = body.held.map((chunk) => dec.decode(chunk, { stream: true })).join("");
  for (;;) {
    const step = await body.reader.read();
    if (step.done) return out;
    out += dec.decode(step.value, { stream: true });
  }
}

const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

const token = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "hi" } }] })}\n\n`;

describe("startStream", () => {
  it("waits past comments for the first data event, then replays everything in order", async () => {
    const parts = [": keep-alive\n\n", ": still here\n\n", token.slice(0, 10), token.slice(10), "data: [DONE]\n\n"];
    const start = await startStream(textStream(parts));
    if (start.kind !== "started") throw new Error(start.reason);
    expect(await text(start.body)).toBe(parts.join(""));
  });

  it("does not start on comments alone: a node that only sends keep-alives never counts as answering", async () => {
    const pending = startStream(textStream([": ping\n\n", ": ping\n\n"], "hang"));
    const outcome = await Promise.race([
      pending.then(() => "started"),
      new Promise((resolve) => setTimeout(() => resolve("waiting"), 50)),
    ]);
    expect(outcome).toBe("waiting");
  });

  it("fails over from a stream whose first event is an error envelope", async () => {
    const envelope = `data: ${JSON.stringify({ error: { message: "model not loaded", type: "server_error" } })}\n\n`;
    expect(await startStream(textStream([": hi\n\n", envelope]))).toMatchObject({
      kind: "failed",
      outcome: "sse_error",
    });
  });

  it("fails a stream that ends, or sends only comments past the preamble limit, before its first event", async () => {
    expect(await startStream(textStream([": bye\n\n"]))).toMatchObject({ kind: "failed", outcome: "malformed" });
    const padding = `: ${"x".repeat(1024)}\n\n`;
    const many = Array.from({ length: Math.ceil(MAX_PREAMBLE_BYTES / padding.length) + 1 }, () => padding);
    expect(await startStream(textStream(many, "hang"))).toMatchObject({ kind: "failed", outcome: "malformed" });
  });

  it(
    "does not take an empty chunk for a first token: a role, an empty string, usage-null padding, early " + "usage",
    async () => {
      const empty = [
        event({ choices: [{ index: 0, delta: { role: "assistant", content: "" } }] }),
        event({ choices: [{ index: 0, delta: {} }], usage: null }),
        event({ choices: [] }),
        event({ choices: [], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } }),
      ];
      const pending = startStream(textStream(empty, "hang"));
      const outcome = await Promise.race([
        pending.then(() => "started"),
        new Promise((resolve) => setTimeout(() => resolve("waiting"), 50)),
      ]);
      expect(outcome).toBe("waiting");
      const start = await startStream(textStream([...empty, token]));
      if (start.kind !== "started") throw new Error(start.reason);
      expect(await text(start.body)).toBe([...empty, token].join(""));
    },
  );

  it("fails a node that pads past the preamble bound with empty chunks", async () => {
    const padding = event({ choices: [{ index: 0, delta: { content: "" } }], pad: "x".repeat(1000) });
    const many = Array.from({ length: Math.ceil(MAX_PREAMBLE_BYTES / padding.length) + 1 }, () => padding);
    expect(await startStream(textStream(many, "hang"))).toMatchObject({ kind: "failed", outcome: "malformed" });
  });
});

describe("firstTokenOf", () => {
  it("counts output, tool calls, log probabilities and the end of an answer; not empty chunks", () => {
    expect(firstTokenOf(JSON.stringify({ choices: [{ index: 0, delta: { content: "a" } }] }))).toBe("token");
    expect(
      firstTokenOf(
        JSON.stringify({
          choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: "f", arguments: "" } }] } }],
        }),
      ),
    ).toBe("token");
    expect(firstTokenOf(JSON.stringify({ choices: [{ index: 0, text: "a" }] }))).toBe("token");
    expect(firstTokenOf("[DONE]")).toBe("token");
    // Sent at once before any output, a finish or usage would fake speed: only output (or [DONE]) counts.
    expect(firstTokenOf(JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }))).toBe("nothing");
    expect(
      firstTokenOf(JSON.stringify({ choices: [], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } })),
    ).toBe("nothing");
    expect(firstTokenOf("x")).toBe("malformed");
    expect(firstTokenOf("null")).toBe("malformed");
    expect(firstTokenOf(JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant", content: "" } }] }))).toBe(
      "nothing",
    );
    expect(firstTokenOf(JSON.stringify({ choices: [{ index: 0, text: "" }] }))).toBe("nothing");
    expect(firstTokenOf(JSON.stringify({ error: { message: "x" } }))).toBe("error");
  });
});

describe("firstTokenOf a Responses stream", () => {
  const of = (value: unknown) => firstTokenOf(JSON.stringify(value), RESPONSES_DIALECT);

  it("starts on a delta, a named call or the last event; not on the events before any output", () => {
    expect(of({ type: "response.output_text.delta", output_index: 0, delta: "a" })).toBe("token");
    expect(
      of({ type: "response.output_item.added", output_index: 0, item: { type: "function_call", name: "f" } }),
    ).toBe("token");
    expect(of({ type: "response.completed", response: {} })).toBe("token");
    expect(of({ type: "response.created", response: {} })).toBe("nothing");
    expect(of({ type: "response.output_item.added", output_index: 0, item: { type: "message", content: [] } })).toBe(
      "nothing",
    );
  });

  it("fails on an error event, and on a chat chunk or [DONE] where Responses events were asked for", () => {
    expect(of({ type: "error", message: "x" })).toBe("error");
    expect(of({ type: "response.failed", response: {} })).toBe("error");
    expect(of({ choices: [{ index: 0, delta: { content: "a" } }] })).toBe("malformed");
    expect(firstTokenOf("[DONE]", RESPONSES_DIALECT)).toBe("malformed");
  });

  it("fails on a delta named as another event (openai-node reads a thread.* event as no Responses event)", () => {
    const delta = JSON.stringify({ type: "response.output_text.delta", output_index: 0, delta: "a" });
    expect(firstTokenOf(delta, RESPONSES_DIALECT, "thread.message.delta")).toBe("malformed");
    expect(firstTokenOf(delta, RESPONSES_DIALECT, "response.output_text.delta")).toBe("token");
  });
});
