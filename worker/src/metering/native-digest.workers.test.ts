import { describe, expect, it } from "vitest";
import { bodyDigest, StreamDigest, utf8 } from "@meshgate/schemas";
import { NativeStreamDigest, nativeBodyDigest } from "./native-digest.js";

describe("native digests", () => {
  it("names a stream as schemas' StreamDigest does, however many payloads and flushes", async () => {
    for (const count of [0, 1, 3, 500]) {
      const js = new StreamDigest();
      const native = new NativeStreamDigest();
      for (let i = 0; i < count; i++) {
        const data = i % 7 === 0 ? "[DONE]" : JSON.stringify({ i, text: "é✓".repeat(i % 50) });
        js.add(data);
        native.add(data);
      }
      expect(await native.finish()).toBe(js.finish());
    }
  });

  it("names short streams (one digest at the end) and long ones (many batched writes) alike", async () => {
    for (const size of [0, 1, 32 * 1024 - 1, 32 * 1024, 200_000]) {
      const js = new StreamDigest();
      const native = new NativeStreamDigest();
      // Payloads of 999 characters and their "\n": the batch bound falls inside, on and between them.
      for (let sent = 0; sent < size; sent += 1000) {
        const data = "é".repeat(Math.min(999, size - sent));
        js.add(data);
        native.add(data);
      }
      expect(await native.finish()).toBe(js.finish());
    }
  });

  it("names a whole body as bodyDigest does", async () => {
    const body = utf8(JSON.stringify({ choices: [{ message: { content: "x".repeat(100_000) } }] }));
    expect(await nativeBodyDigest(body)).toBe(bodyDigest(body));
  });
});
