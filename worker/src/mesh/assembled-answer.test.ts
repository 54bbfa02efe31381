import { describe, expect, it } from "vitest";
import { RECEIPT_COMMENT_PREFIX, StreamDigest } from "@meshgate/schemas";
import { nodeBody } from "../metering/response-meter.js";
import { assembleAnswer } from "./assembled-answer.js";
import { textStream as source } from "../../test/text-stream.js";

const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 7, model: "m" };
const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const content = (text: string) => event({ ...base, choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });
const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
const ending = [event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }), event({ ...base, choices: [], usage }), "data: [DONE]\n\n"];

/** As dispatch hands it on: the first chunk already read (the first token), the reader released after. */
async function assemble(parts: string[], end: "close" | "hang" = "close", stallMs = 1_000) {
  const stream = source(parts, end);
  const start = nodeBody(stream);
  const first = await start.reader.read();
  if (!first.done) start.held.push(first.value);
  return assembleAnswer(stream, start, { kind: "chat", choices: 1, stallMs });
}

describe("assembleAnswer", () => {
  it("assembles the whole answer, metered as the stream was (usage, receipt, digest, what was relayed)", async () => {
    const parts = [content("Hel"), content("lo"), ...ending, `${RECEIPT_COMMENT_PREFIX} token\n\n`];
    const result = await assemble(parts);
    if (result.kind !== "answer") throw new Error(JSON.stringify(result));
    const answer: unknown = JSON.parse(new TextDecoder().decode(result.answer.bytes));
    expect(answer).toMatchObject({ id: "chatcmpl-1", object: "chat.completion", created: 7, model: "m", usage });
    expect(answer).toMatchObject({ choices: [{ index: 0, message: { role: "assistant", content: "Hello" }, finish_reason: "stop" }] });
    expect(result.answer.usage).toEqual(usage);
    expect(result.answer.receipt).toBe("token");
    expect(result.answer.relayed.textBytes).toBe(5);
    const digest = new StreamDigest();
    for (const p of parts.slice(0, -1)) digest.add(p.slice("data: ".length, -2));
    expect(await result.answer.digest).toBe(digest.finish());
  });

  it("fails (so the next node is tried) a stream that ends without [DONE], carries an error, stalls, or never ends an event", async () => {
    expect(await assemble([content("a"), content("b")])).toMatchObject({ kind: "failed", outcome: "malformed" });
    expect(await assemble([content("a"), event({ error: { message: "boom" } }), ...ending])).toMatchObject({ kind: "failed", outcome: "sse_error" });
    expect(await assemble([content("a")], "hang", 60)).toMatchObject({ kind: "failed", outcome: "stalled" });
    const endless = [content("a"), 'data: {"x":"', ...Array.from({ length: 40 }, () => "y".repeat(64 * 1024))];
    expect(await assemble(endless, "hang")).toMatchObject({ kind: "failed", outcome: "malformed" });
  });

  it("refuses, as the request's own doing (no node failed), an answer larger than it assembles", async () => {
    const big = Array.from({ length: 140 }, () => content("z".repeat(64 * 1024)));
    expect(await assemble([...big, ...ending])).toEqual({ kind: "too_large" });
  });

  it("fails a stream with a payload that is not a JSON object", async () => {
    expect(await assemble([content("a"), "data: not json\n\n", ...ending])).toMatchObject({ kind: "failed", outcome: "malformed" });
  });
});
