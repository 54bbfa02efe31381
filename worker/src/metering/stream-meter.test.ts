import { RECEIPT_COMMENT_PREFIX, RESPONSES_DIALECT } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { StreamMeter } from "./stream-meter.js";

const enc = new TextEncoder();
const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
const parts = [
  event({ choices: [{ index: 0, delta: { content: "Hel" } }] }),
  event({ choices: [{ index: 0, delta: { content: "lo" } }] }) + event({ choices: [], usage }) + "data: [DONE]\n\n",
  `${RECEIPT_COMMENT_PREFIX}token\n\n`,
];

async function run(relay: boolean | undefined) {
  const meter = new StreamMeter({ hideUsage: false, choices: 1, ...(relay === undefined ? {} : { relay }) });
  const sent = parts.map((p) => meter.chunk(enc.encode(p)));
  sent.push(meter.end());
  return { meter, sent, digest: await meter.finishDigest() };
}

describe("StreamMeter", () => {
  it("meters alike whether or not it relays; without relaying it hands back no bytes", async () => {
    const relayed = await run(undefined);
    const kept = await run(false);
    expect(relayed.sent.filter((b) => b !== null).length).toBeGreaterThan(0);
    expect(kept.sent).toEqual([null, null, null, null]);
    for (const { meter } of [relayed, kept]) {
      expect(meter.usage).toEqual(usage);
      expect(meter.receipt).toBe("token");
      expect(meter.completed).toBe(true);
      expect(meter.relayed.textBytes).toBe(5);
      expect(meter.progress).toBe(3);
    }
    expect(kept.digest).toBe(relayed.digest);
  });
});

describe("StreamMeter reading Responses events", () => {
  const responsesEvent = (value: { type: string } & Record<string, unknown>) =>
    `event: ${value.type}\ndata: ${JSON.stringify(value)}\n\n`;
  const completed = responsesEvent({
    type: "response.completed",
    response: { object: "response", output: [], usage: { input_tokens: 7, output_tokens: 2, total_tokens: 9 } },
  });
  const deltas = [
    responsesEvent({ type: "response.created", response: { object: "response" } }),
    responsesEvent({ type: "response.output_text.delta", output_index: 0, delta: "Hel" }),
    responsesEvent({ type: "response.output_text.delta", output_index: 0, delta: "lo" }),
  ];

  function meter(chunks: readonly string[]) {
    const m = new StreamMeter({ hideUsage: true, choices: 1, dialect: RESPONSES_DIALECT });
    const sent = chunks.map((c) => m.chunk(enc.encode(c)));
    m.end();
    return { m, sent };
  }

  it("relays every event unchanged, takes usage from response.completed, and completes there", () => {
    const { m, sent } = meter([...deltas, completed, `${RECEIPT_COMMENT_PREFIX}token\n\n`]);
    expect(sent.slice(0, 4).map((b) => b && new TextDecoder().decode(b))).toEqual([...deltas, completed]);
    expect(m.usage).toEqual({ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 });
    expect(m.completed).toBe(true);
    expect(m.receipt).toBe("token");
    expect(m.relayed.textBytes).toBe(5);
    expect(m.relayed.chunkTokens).toBe(2);
  });

  it("counts no output a client's SDK does not read: after an error or [DONE], or under another event name", () => {
    const error = responsesEvent({ type: "error", message: "x" });
    for (const stop of [error, "data: [DONE]\n\n"]) {
      const { m } = meter([...deltas, stop, deltas[1]!, completed]);
      expect(m.relayed.textBytes).toBe(5);
      expect(m.usage).toEqual({ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 });
    }
    const misnamed = deltas[1]!.replace("event: response.output_text.delta", "event: thread.message.delta");
    const { m } = meter([...deltas, misnamed, completed]);
    expect(m.relayed.textBytes).toBe(5);
    expect(m.malformed).toBe(true);
  });

  it("is not complete without response.completed, nor when data comes after it", () => {
    expect(meter(deltas).m.completed).toBe(false);
    expect(meter([...deltas, completed, deltas[1]!]).m.completed).toBe(false);
  });

  it("is complete with a [DONE] after response.completed (where both SDKs stop anyway), not sent on", () => {
    const { m, sent } = meter([...deltas, completed, "data: [DONE]\n\n"]);
    expect(m.completed).toBe(true);
    expect(m.malformed).toBe(false);
    expect(sent.at(-1)).toBeNull();
  });

  it("takes a chat stream sent instead for a malformed one, and an error event for an error", () => {
    const chat = meter([event({ choices: [{ index: 0, delta: { content: "hi" } }] }), "data: [DONE]\n\n"]).m;
    expect(chat.malformed).toBe(true);
    expect(chat.completed).toBe(false);
    expect(chat.relayed.textBytes).toBe(0);
    expect(meter([...deltas, responsesEvent({ type: "error", message: "x" })]).m.sseError).toBe(true);
  });
});
