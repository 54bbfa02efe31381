import { bodyDigest, StreamDigest, utf8 } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { NativeStreamDigest, wholeBodyDigest } from "./digest.js";

describe("native receipt digests", () => {
  it.each(["", "{}", '{"text":"héllo ✓ 🦊"}', "x".repeat(100_000)])("match the schemas' digests for %#", (text) => {
    expect(wholeBodyDigest(utf8(text))).toBe(bodyDigest(utf8(text)));
    const native = new NativeStreamDigest();
    const reference = new StreamDigest();
    for (const data of [text, "[DONE]"]) {
      native.add(data);
      reference.add(data);
    }
    expect(native.finish()).toBe(reference.finish());
  });
});
