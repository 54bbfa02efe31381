import { describe, expect, it } from "vitest";
import { collect, collectWhole } from "./answer-collect.js";
import { textStream as source } from "../../test/text-stream.js";

const enc = new TextEncoder();

describe("collect", () => {
  it("reads a body to its end, in order, once", async () => {
    const whole = await collectWhole(source(['{"a":', "1,", '"b":2}']), 1024, 1_000);
    expect("bytes" in whole && new TextDecoder().decode(whole.bytes)).toBe('{"a":1,"b":2}');
  });

  it("refuses a body past its limit, and stops reading it", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    expect(await collectWhole(endless, 10 * 1024, 1_000)).toEqual({ kind: "too_large" });
    expect(pulled).toBeLessThan(20);
  });

  it("stops when the caller refuses what came", async () => {
    const seen: number[] = [];
    const result = await collect(source(["ab", "cd", "ef"]), {
      onBytes: (b) => {
        seen.push(b.byteLength);
        return seen.length < 2;
      },
      limit: 1024,
      stallMs: 1_000,
    });
    expect(result).toEqual({ kind: "refused" });
    expect(seen).toEqual([2, 2]);
  });

  it("gives up on a node that stops sending, and on one whose bytes are no progress", async () => {
    expect(await collect(source(["a"], "hang"), { onBytes: () => {}, limit: 1024, stallMs: 60 })).toEqual({
      kind: "stalled",
    });
    let n = 0;
    const keepAlives = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        controller.enqueue(enc.encode(": ping\n\n"));
        n++;
      },
    });
    expect(
      await collect(keepAlives, { onBytes: () => {}, limit: 1 << 20, stallMs: 80, progressed: () => false }),
    ).toEqual({ kind: "stalled" });
    expect(n).toBeGreaterThan(2);
  });

  it("says a body that broke off is broken", async () => {
    expect(await collect(source(["a"], "error"), { onBytes: () => {}, limit: 1024, stallMs: 1_000 })).toMatchObject({
      kind: "broken",
    });
  });

  it("reads a byte stream in batches to its end, a node slowing down after a first burst included", async () => {
    let pulls = 0;
    const paced = new ReadableStream({
      type: "bytes",
      async pull(controller) {
        pulls++;
        if (pulls === 1) return controller.enqueue(new Uint8Array(600));
        if (pulls > 30) return controller.close();
        await new Promise((resolve) => setTimeout(resolve, 50));
        controller.enqueue(new Uint8Array(50));
      },
    });
    let batches = 0;
    const result = await collect(paced, { onBytes: () => void batches++, limit: 1 << 20, stallMs: 1_500 });
    expect(result).toEqual({ kind: "done", bytes: 600 + 29 * 50 });
    // Batched: fewer wake-ups than chunks.
    expect(batches).toBeLessThan(30);
  });

  it("while the caller waits on its own deadline, hands on whatever came at once and never stalls", async () => {
    let step = 0;
    const slow = new ReadableStream({
      type: "bytes",
      async pull(controller) {
        step++;
        if (step === 1) return controller.enqueue(enc.encode("hi"));
        await new Promise((resolve) => setTimeout(resolve, 120));
        if (step === 2) return controller.enqueue(enc.encode("!"));
        controller.close();
      },
    });
    const seen: string[] = [];
    const result = await collect(slow, {
      onBytes: (b) => void seen.push(new TextDecoder().decode(b)),
      limit: 1024,
      stallMs: 30,
      waiting: () => true,
    });
    expect(result).toEqual({ kind: "done", bytes: 3 });
    expect(seen).toEqual(["hi", "!"]);
  });

  it("reads into one buffer again when the caller keeps nothing, every byte intact", async () => {
    const parts = Array.from({ length: 40 }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(300 + i * 37));
    let i = 0;
    const bytes = new ReadableStream({
      type: "bytes",
      pull(controller) {
        const part = parts[i++];
        if (part === undefined) return controller.close();
        controller.enqueue(enc.encode(part));
      },
    });
    let text = "";
    const result = await collect(bytes, {
      onBytes: (b) => {
        text += new TextDecoder().decode(b);
      },
      limit: 1 << 20,
      stallMs: 1_000,
      transient: true,
    });
    expect(result.kind).toBe("done");
    expect(text).toBe(parts.join(""));
  });
});
