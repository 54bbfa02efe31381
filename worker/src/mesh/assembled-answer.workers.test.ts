import { describe, expect, it } from "vitest";
import { RECEIPT_COMMENT_PREFIX, StreamDigest } from "@meshgate/schemas";
import { assembleAnswer } from "./assembled-answer.js";
import { MAX_PREAMBLE_BYTES } from "./stream-start.js";
import { textStream as source, type StreamEnd } from "../../test/text-stream.js";

const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 7, model: "m" };
const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const content = (text: string) =>
  event({ ...base, choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });
const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
const ending = [
  event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
  event({ ...base, choices: [], usage }),
  "data: [DONE]\n\n",
];

/** As dispatch hands it on: the whole stream, from its first byte. */
function assemble(parts: string[], end: StreamEnd = "close", stallMs = 1_000, onFirstToken = () => {}) {
  return assembleAnswer(source(parts, end), { kind: "chat", choices: 1, stallMs, onFirstToken });
}

const role = event({
  ...base,
  choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
});

describe("assembleAnswer", () => {
  it("assembles the whole answer, metered as the stream was (usage, receipt, digest, what was relayed)", async () => {
    const parts = [content("Hel"), content("lo"), ...ending, `${RECEIPT_COMMENT_PREFIX} token\n\n`];
    const result = await assemble(parts);
    if (result.kind !== "answer") throw new Error(JSON.stringify(result));
    const answer: unknown = JSON.parse(new TextDecoder().decode(result.answer.bytes));
    expect(answer).toMatchObject({ id: "chatcmpl-1", object: "chat.completion", created: 7, model: "m", usage });
    expect(answer).toMatchObject({
      choices: [{ index: 0, message: { role: "assistant", content: "Hello" }, finish_reason: "stop" }],
    });
    expect(result.answer.usage).toEqual(usage);
    expect(result.answer.receipt).toBe("token");
    expect(result.answer.relayed.textBytes).toBe(5);
    const digest = new StreamDigest();
    for (const p of parts.slice(0, -1)) digest.add(p.slice("data: ".length, -2));
    expect(await result.answer.digest).toBe(digest.finish());
  });

  it(
    "fails (so the next node is tried) a stream that ends without [DONE], carries an error, stalls, or never ends " +
      "an event",
    async () => {
      expect(await assemble([content("a"), content("b")])).toMatchObject({ kind: "failed", outcome: "malformed" });
      expect(await assemble([content("a"), event({ error: { message: "boom" } }), ...ending])).toMatchObject({
        kind: "failed",
        outcome: "sse_error",
      });
      expect(await assemble([content("a")], "hang", 60)).toMatchObject({ kind: "failed", outcome: "stalled" });
      const endless = [content("a"), 'data: {"x":"', ...Array.from({ length: 40 }, () => "y".repeat(64 * 1024))];
      expect(await assemble(endless, "hang")).toMatchObject({ kind: "failed", outcome: "malformed" });
    },
  );

  it("refuses, as the request's own doing (no node failed), an answer larger than it assembles", async () => {
    const big = Array.from({ length: 140 }, () => content("z".repeat(64 * 1024)));
    expect(await assemble([...big, ...ending])).toEqual({ kind: "too_large" });
  });

  it("fails a stream with a payload that is not a JSON object", async () => {
    expect(await assemble([content("a"), "data: not json\n\n", ...ending])).toMatchObject({
      kind: "failed",
      outcome: "malformed",
    });
  });

  it(
    "finds the first token as startStream does: past comments and empty chunks, [DONE] included, and says " + "so once",
    async () => {
      let firsts = 0;
      const result = await assemble(
        [": hi\n\n", role, content("a"), content("b"), ...ending],
        "close",
        1_000,
        () => firsts++,
      );
      expect(result.kind).toBe("answer");
      expect(firsts).toBe(1);
      let early = 0;
      expect(await assemble([role + "data: [DONE]\n\n"], "close", 1_000, () => early++)).toMatchObject({
        kind: "answer",
      });
      expect(early).toBe(1);
    },
  );

  it(
    "fails a stream's start as startStream does: an error or a non-object first, an end or a full preamble before " +
      "any token",
    async () => {
      const notStarted = { kind: "failed", started: false };
      let firsts = 0;
      const never = () => firsts++;
      expect(
        await assemble([role, event({ error: { message: "busy" } }), content("a"), ...ending], "close", 1_000, never),
      ).toMatchObject({ ...notStarted, outcome: "sse_error" });
      expect(await assemble(["data: [1]\n\n", content("a"), ...ending], "close", 1_000, never)).toMatchObject({
        ...notStarted,
        outcome: "malformed",
      });
      expect(await assemble([": bye\n\n", role], "close", 1_000, never)).toMatchObject({
        ...notStarted,
        outcome: "malformed",
      });
      const pings = Array.from({ length: Math.ceil(MAX_PREAMBLE_BYTES / 1024) + 2 }, () => `: ${"p".repeat(1020)}\n\n`);
      expect(await assemble(pings, "hang", 1_000, never)).toMatchObject({ ...notStarted, outcome: "malformed" });
      expect(await assemble([role], "error", 1_000, never)).toMatchObject({ ...notStarted, outcome: "error" });
      expect(firsts).toBe(0);
      // A token after an error does not rescue the start; an error after the first token fails the answer, started.
      expect(await assemble([content("a"), event({ error: { message: "boom" } }), ...ending])).toMatchObject({
        kind: "failed",
        outcome: "sse_error",
        started: true,
      });
    },
  );

  it("leaves the wait for a first token to the caller's deadline: no stall before it", async () => {
    let settled = false;
    void assemble([role], "hang", 20).then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(settled).toBe(false);
  });
});
