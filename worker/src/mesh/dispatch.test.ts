import { describe, expect, it } from "vitest";
import { MAX_PREAMBLE_BYTES, startStream } from "./dispatch.js";

const enc = new TextEncoder();

function source(parts: string[], thenHang = false): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      const part = parts[i++];
      if (part !== undefined) return controller.enqueue(enc.encode(part));
      if (thenHang) return new Promise(() => {});
      controller.close();
    },
  });
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  let out = "";
  const dec = new TextDecoder();
  for await (const chunk of stream) out += dec.decode(chunk, { stream: true });
  return out;
}

const token = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "hi" } }] })}\n\n`;

describe("startStream", () => {
  it("waits past comments for the first data event, then replays everything in order", async () => {
    const parts = [": keep-alive\n\n", ": still here\n\n", token.slice(0, 10), token.slice(10), "data: [DONE]\n\n"];
    const start = await startStream(source(parts));
    if (start.kind !== "started") throw new Error(start.reason);
    expect(await text(start.body)).toBe(parts.join(""));
  });

  it("does not start on comments alone: a node that only sends keep-alives never counts as answering", async () => {
    const pending = startStream(source([": ping\n\n", ": ping\n\n"], true));
    const outcome = await Promise.race([pending.then(() => "started"), new Promise((resolve) => setTimeout(() => resolve("waiting"), 50))]);
    expect(outcome).toBe("waiting");
  });

  it("fails over from a stream whose first event is an error envelope", async () => {
    const envelope = `data: ${JSON.stringify({ error: { message: "model not loaded", type: "server_error" } })}\n\n`;
    expect(await startStream(source([": hi\n\n", envelope]))).toMatchObject({ kind: "failed", outcome: "sse_error" });
  });

  it("fails a stream that ends, or sends only comments past the preamble limit, before its first event", async () => {
    expect(await startStream(source([": bye\n\n"]))).toMatchObject({ kind: "failed", outcome: "malformed" });
    const padding = `: ${"x".repeat(1024)}\n\n`;
    const many = Array.from({ length: Math.ceil(MAX_PREAMBLE_BYTES / padding.length) + 1 }, () => padding);
    expect(await startStream(source(many, true))).toMatchObject({ kind: "failed", outcome: "malformed" });
  });
});
