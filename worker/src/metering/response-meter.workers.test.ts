import { describe, expect, it } from "vitest";
import { RECEIPT_COMMENT_PREFIX, StreamDigest } from "@meshgate/schemas";
import { meterStream, MID_STREAM_ERROR_EVENT } from "./response-meter.js";
import { textStream as source } from "../../test/text-stream.js";

const enc = new TextEncoder();
const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: "x", choices: [{ index: 0, delta: { content } }], usage: null })}\n\n`;
const usageEvent = `data: ${JSON.stringify({ id: "x", choices: [], usage })}\n\n`;

async function readChunks(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  const dec = new TextDecoder();
  for await (const c of stream) out.push(dec.decode(c));
  return out;
}

describe("meterStream on streams", () => {
  it("passes chunks through one by one and reads the usage", async () => {
    const parts = [chunk("a"), chunk("b"), usageEvent, "data: [DONE]\n\n"];
    const { body, result } = meterStream(source(parts), { hideUsage: false, choices: 1 });
    expect(await readChunks(body)).toEqual(parts);
    expect(await result).toMatchObject({
      usage,
      completed: true,
      failure: null,
      sseError: false,
      bytes: parts.join("").length,
    });
  });

  it("removes the usage chunk the client did not ask for, and still meters it", async () => {
    const parts = [chunk("a"), usageEvent, "data: [DONE]\n\n"];
    const { body, result } = meterStream(source(parts), { hideUsage: true, choices: 1 });
    const seen = (await readChunks(body)).join("");
    expect(seen).toBe(chunk("a") + "data: [DONE]\n\n");
    expect((await result).usage).toEqual(usage);
  });

  it(
    "takes the node's receipt out of the stream, whether or not usage is hidden, and digests the payloads " + "as sent",
    async () => {
      const receipt = "cmVjZWlwdA.c2lnbmF0dXJl";
      const parts = [chunk("a"), chunk("b"), usageEvent, `data: [DONE]\n\n${RECEIPT_COMMENT_PREFIX}${receipt}\n\n`];
      const expected = new StreamDigest();
      for (const data of [chunk("a"), chunk("b"), usageEvent].map((e) => e.slice("data: ".length, -2)))
        expected.add(data);
      expected.add("[DONE]");
      const digest = expected.finish();
      for (const hideUsage of [false, true]) {
        const { body, result } = meterStream(source(parts), { hideUsage, choices: 1 });
        const seen = (await readChunks(body)).join("");
        expect(seen).not.toContain("meshgate-receipt");
        expect(seen.endsWith("data: [DONE]\n\n")).toBe(true);
        const m = await result;
        expect(m.receipt).toBe(receipt);
        expect(await m.digest).toBe(digest);
        expect(m.relayed).toMatchObject({ textBytes: 2, chunkTokens: 2 });
      }
    },
  );

  it("ignores a receipt comment that is not the stream's last event, but never passes it on", async () => {
    const parts = [chunk("a"), `${RECEIPT_COMMENT_PREFIX}early.sig\n\n`, usageEvent, "data: [DONE]\n\n"];
    const { body, result } = meterStream(source(parts), { hideUsage: false, choices: 1 });
    expect((await readChunks(body)).join("")).toBe(chunk("a") + usageEvent + "data: [DONE]\n\n");
    expect((await result).receipt).toBeNull();
  });

  it("handles events split across chunks and several events in one chunk", async () => {
    const all = chunk("a") + usageEvent + "data: [DONE]\n\n";
    const parts = [all.slice(0, 7), all.slice(7, 60), all.slice(60)];
    const { body, result } = meterStream(source(parts), { hideUsage: true, choices: 1 });
    expect((await readChunks(body)).join("")).toBe(chunk("a") + "data: [DONE]\n\n");
    expect((await result).completed).toBe(true);
  });

  it("ends a stream that breaks mid-way with an OpenAI error event", async () => {
    const { body, result } = meterStream(source([chunk("a"), chunk("b")], "error"), { hideUsage: true, choices: 1 });
    const seen = await readChunks(body);
    expect(seen.at(-1)).toBe(MID_STREAM_ERROR_EVENT);
    expect(JSON.parse(MID_STREAM_ERROR_EVENT.slice(6)).error.code).toBe("upstream_stream_error");
    expect(await result).toMatchObject({ completed: false, failure: "upstream_error", usage: null });
  });

  it("ends a stream whose node goes silent with an OpenAI error event, as stalled", async () => {
    let sent = false;
    const silentAfterOne = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!sent) {
          sent = true;
          controller.enqueue(enc.encode(chunk("a")));
        }
        // Then nothing, ever: the node holds the connection open without a byte.
        return new Promise(() => {});
      },
    });
    const { body, result } = meterStream(silentAfterOne, { hideUsage: false, choices: 1, upstreamStallMs: 50 });
    const seen = await readChunks(body);
    expect(seen).toEqual([chunk("a"), MID_STREAM_ERROR_EVENT]);
    expect(await result).toMatchObject({ completed: false, failure: "upstream_stalled" });
  });

  it(
    "ends a stream whose event never ends once it passes the bound, with an error event, without relaying any " +
      "of it",
    async () => {
      let pulls = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulls++;
          controller.enqueue(
            enc.encode(
              pulls === 1 ? `${chunk("a")}data: {"choices":[{"index":0,"delta":{"content":"` : "x".repeat(64 * 1024),
            ),
          );
        },
      });
      const { body, result } = meterStream(endless, { hideUsage: false, choices: 1 });
      const seen = await readChunks(body);
      expect(seen).toEqual([chunk("a"), MID_STREAM_ERROR_EVENT]);
      expect(await result).toMatchObject({ completed: false, failure: "upstream_malformed" });
      // 1 MiB held at most: the node's bytes stop being read just past it.
      expect(pulls).toBeLessThan(20);
    },
  );

  it("counts a node that sends only empty chunks or repeated [DONE]s after its first token as stalled", async () => {
    for (const filler of [
      `data: ${JSON.stringify({ id: "x", choices: [{ index: 0, delta: {} }] })}\n\n`,
      "data: [DONE]\n\n",
    ]) {
      let sent = 0;
      const holding = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent++ === 0) return controller.enqueue(enc.encode(chunk("a")));
          await new Promise((resolve) => setTimeout(resolve, 5));
          controller.enqueue(enc.encode(filler));
        },
      });
      const { body, result } = meterStream(holding, { hideUsage: false, choices: 1, upstreamStallMs: 80 });
      await readChunks(body);
      expect(await result).toMatchObject({ failure: "upstream_stalled" });
    }
  });

  it("marks a stream with a payload that is not a JSON object as malformed", async () => {
    const { body, result } = meterStream(source([chunk("a"), "data: <html>\n\n", "data: [DONE]\n\n"]), {
      hideUsage: false,
      choices: 1,
    });
    await readChunks(body);
    expect(await result).toMatchObject({ malformed: true });
  });

  it("counts a node that sends only keep-alive comments after its first token as stalled", async () => {
    let sent = 0;
    const commentsForever = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent++ === 0) return controller.enqueue(enc.encode(chunk("a")));
        await new Promise((resolve) => setTimeout(resolve, 5));
        controller.enqueue(enc.encode(": keep-alive\n\n"));
      },
    });
    const { body, result } = meterStream(commentsForever, { hideUsage: false, choices: 1, upstreamStallMs: 60 });
    const seen = await readChunks(body);
    expect(seen[0]).toBe(chunk("a"));
    expect(seen.at(-1)).toBe(MID_STREAM_ERROR_EVENT);
    expect(await result).toMatchObject({ completed: false, failure: "upstream_stalled" });
  });

  it("does not count a slow but progressing stream as stalled", async () => {
    const parts = [chunk("a"), chunk("b"), chunk("c"), chunk("d"), chunk("e"), "data: [DONE]\n\n"];
    let i = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const part = parts[i++];
        if (part === undefined) controller.close();
        else controller.enqueue(enc.encode(part));
      },
    });
    // Each gap (100 ms) is well under the limit, though all of them together are not.
    const { body, result } = meterStream(slow, { hideUsage: false, choices: 1, upstreamStallMs: 400 });
    expect(await readChunks(body)).toEqual(parts);
    expect(await result).toMatchObject({ completed: true, failure: null });
  });

  it("notices an error envelope inside a 200 stream, and passes it on", async () => {
    const envelope = `data: ${JSON.stringify({ error: { message: "model crashed", type: "server_error" } })}\n\n`;
    const { body, result } = meterStream(source([chunk("a"), envelope]), { hideUsage: false, choices: 1 });
    expect((await readChunks(body)).join("")).toContain("model crashed");
    expect(await result).toMatchObject({ sseError: true, completed: false });
  });

  it("does not mistake content that mentions an error for an error envelope", async () => {
    const parts = [chunk('{"error": "is just text here"}'), "data: [DONE]\n\n"];
    const { body, result } = meterStream(source(parts), { hideUsage: false, choices: 1 });
    await readChunks(body);
    expect(await result).toMatchObject({ sseError: false, completed: true });
  });

  it("reports a stream without [DONE] as not completed", async () => {
    const { body, result } = meterStream(source([chunk("a")]), { hideUsage: false, choices: 1 });
    await readChunks(body);
    expect((await result).completed).toBe(false);
  });

  it(
    "reads the rest of the node's answer after the client hung up, so its usage and receipt still " + "arrive",
    async () => {
      const parts = [chunk("a"), chunk("b"), usageEvent, `data: [DONE]\n\n${RECEIPT_COMMENT_PREFIX}tok.sig\n\n`];
      const { body, result } = meterStream(source(parts), { hideUsage: true, choices: 1 });
      const reader = body.getReader();
      await reader.read();
      await reader.cancel();
      expect(await result).toMatchObject({
        clientGone: true,
        failure: null,
        completed: true,
        usage,
        receipt: "tok.sig",
      });
    },
  );
});

describe("meterStream when the client goes away", () => {
  it(
    "asks for the node to be stopped once, and takes the receipt that ends an answer cut short (no " + "[DONE])",
    async () => {
      let wake: () => void = () => {};
      let step = 0;
      const parts = [chunk("a"), chunk("b"), `${RECEIPT_COMMENT_PREFIX}partial.sig\n\n`];
      const stopped = new Promise<void>((resolve) => (wake = resolve));
      const node = new ReadableStream<Uint8Array>({
        async pull(controller) {
          // After the first chunk, the node waits until it is told to stop, then sends what it had and its receipt.
          if (step === 1) await stopped;
          const part = parts[step++];
          if (part === undefined) controller.close();
          else controller.enqueue(enc.encode(part));
        },
      });
      let stops = 0;
      const { body, result, abandon } = meterStream(node, {
        hideUsage: false,
        choices: 1,
        onClientGone: () => {
          stops++;
          wake();
        },
      });
      await body.getReader().read();
      abandon();
      abandon();
      const m = await result;
      expect(stops).toBe(1);
      expect(m).toMatchObject({
        clientGone: true,
        failure: null,
        completed: false,
        receipt: "partial.sig",
        usage: null,
      });
      // What came after the client left is tallied apart: it reached nobody.
      expect([m.relayed.chunkTokens, m.afterLeave.chunkTokens]).toEqual([1, 1]);
    },
  );

  it("stops reading from a node that does not finish within the drain limit after its client left", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(enc.encode(chunk("x"))),
      cancel: () => {
        cancelled = true;
      },
    });
    const { body, result, abandon } = meterStream(endless, { hideUsage: false, choices: 1, drainMs: 50 });
    await body.getReader().read();
    abandon();
    expect(await result).toMatchObject({ failure: "client_cancelled", clientGone: true, completed: false });
    expect(cancelled).toBe(true);
  });

  it("gives up on a client that stops reading without hanging up", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(enc.encode(chunk("x"))),
      cancel: () => {
        cancelled = true;
      },
    });
    const { body, result } = meterStream(endless, { hideUsage: false, choices: 1, stallMs: 40, drainMs: 50 });
    await body.getReader().read();
    expect(await result).toMatchObject({ failure: "client_cancelled", clientGone: true });
    expect(cancelled).toBe(true);
  });
});

describe("meterStream after [DONE]", () => {
  it("relays, tallies and reads nothing after [DONE], and calls such a stream incomplete", async () => {
    const inflated = `data: ${JSON.stringify({ id: "x", choices: [], usage: { prompt_tokens: 3, completion_tokens: 40_000, total_tokens: 40_003 } })}\n\n`;
    // "[DONE] " ends the stream for the SDKs as "[DONE]" does.
    for (const end of ["data: [DONE]\n\n", "data: [DONE] \n\n"]) {
      const parts = [
        chunk("hi"),
        usageEvent,
        end,
        chunk("x".repeat(50_000)),
        inflated,
        "data: [DONE]\n\n",
        `${RECEIPT_COMMENT_PREFIX}r.s\n\n`,
      ];
      const { body, result } = meterStream(source(parts), { hideUsage: false, choices: 1 });
      const seen = (await readChunks(body)).join("");
      expect(seen).toBe(chunk("hi") + usageEvent + end);
      const m = await result;
      expect(m).toMatchObject({ usage, completed: false, failure: null });
      expect(m.relayed.textBytes).toBe(2);
    }
  });

  it("takes a repeated [DONE] as the same end", async () => {
    const parts = [chunk("hi"), usageEvent, "data: [DONE]\n\n", "data: [DONE]\n\n"];
    const { body, result } = meterStream(source(parts), { hideUsage: false, choices: 1 });
    await readChunks(body);
    expect(await result).toMatchObject({ usage, completed: true });
  });
});

describe("meterStream with no body", () => {
  it("settles at once as complete with nothing to meter", async () => {
    const { body, result } = meterStream(null, { hideUsage: false, choices: 1 });
    expect(await readChunks(body)).toEqual([]);
    expect(await result).toMatchObject({ usage: null, failure: null });
  });
});
